package dev.pruneserve.model;

import dev.pruneserve.error.ErrorKind;
import dev.pruneserve.error.ServingException;
import dev.pruneserve.session.ModelSession;
import dev.pruneserve.tensor.DataType;
import dev.pruneserve.tensor.Shapes;
import dev.pruneserve.tensor.Tensor;
import dev.pruneserve.tensor.TensorSpec;
import java.nio.ByteBuffer;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;

/**
 * Runs one inference on all-zero inputs (dynamic dims = 1; ones in inputs that feed integer
 * divisors) so the first real request is not slow.
 * A model whose inputs the runtime cannot create (UNIMPLEMENTED) is not warmed: it still loads,
 * and requests get the same UNIMPLEMENTED status with its explanation.
 */
public final class Warmup {
  private Warmup() {}

  public static void run(ModelSession session) {
    Map<String, Tensor> inputs = new LinkedHashMap<>();
    for (TensorSpec spec : session.inputs()) {
      long[] shape = spec.shape();
      for (int i = 0; i < shape.length; i++) {
        shape[i] = shape[i] < 0 ? 1 : shape[i];
      }
      long count = Shapes.elementCount(shape);
      long bytes = count * Math.max(1, spec.type().byteSize());
      if (bytes > Integer.MAX_VALUE / 2) {
        throw ServingException.precondition("warm-up input '" + spec.name() + "' of shape "
            + Shapes.format(shape) + " is too large; set \"warmup\": false in config.json");
      }
      int n = (int) count;
      boolean ones = session instanceof GuardedSession g && g.guardedInputs().contains(spec.name());
      Tensor t = spec.type() == DataType.BYTES
          ? Tensor.bytes(spec.name(), shape, Collections.nCopies(n, new byte[0]))
          : Tensor.fixed(spec.name(), spec.type(), shape, ones ? ones(n, spec.type().byteSize())
              : ByteBuffer.allocate(n * spec.type().byteSize()));
      inputs.put(spec.name(), t);
    }
    LinkedHashSet<String> outputs = new LinkedHashSet<>();
    session.outputs().forEach(o -> outputs.add(o.name()));
    try {
      session.run(inputs, outputs);
    } catch (ServingException e) {
      if (e.kind() != ErrorKind.UNIMPLEMENTED) {
        throw e;
      }
    }
  }

  /** {@code n} integers of value 1, little-endian, {@code width} bytes each (inputs that feed divisors). */
  private static ByteBuffer ones(int n, int width) {
    ByteBuffer b = ByteBuffer.allocate(n * width);
    for (int i = 0; i < n; i++) {
      b.put(i * width, (byte) 1);
    }
    return b;
  }
}
