package dev.pruneserve.model;

import dev.pruneserve.error.ErrorKind;
import dev.pruneserve.error.ServingException;
import dev.pruneserve.repository.ModelConfigFile;
import dev.pruneserve.session.ModelSession;
import dev.pruneserve.tensor.DataType;
import dev.pruneserve.tensor.Shapes;
import dev.pruneserve.tensor.Tensor;
import dev.pruneserve.tensor.TensorSpec;
import java.nio.ByteBuffer;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import org.jboss.logging.Logger;

/**
 * Runs one inference on all-zero inputs (dynamic dims = 1, or the shape config.json's {@code
 * warmup_shapes} gives an input; ones in inputs that feed integer divisors) so the first real
 * request is not slow. Warm-up never fails a model's load because the synthetic inputs do not
 * suit it (e.g. a Conv window longer than a dynamic dim of 1): the model is served un-warmed and
 * the log says why and how to set a shape. Only a configured shape that contradicts the model's
 * declared one fails the load (FAILED_PRECONDITION naming the input).
 */
public final class Warmup {
  private static final Logger LOG = Logger.getLogger(Warmup.class);

  private Warmup() {}

  public static void run(ModelSession session) {
    run(session, ModelConfigFile.DEFAULT);
  }

  public static void run(ModelSession session, ModelConfigFile config) {
    Map<String, Tensor> inputs = new LinkedHashMap<>();
    Map<String, List<Long>> configured = config.warmupShapesOrEmpty();
    for (TensorSpec spec : session.inputs()) {
      long[] shape = shape(spec, configured.get(spec.name()));
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
      if (e.kind() == ErrorKind.UNIMPLEMENTED) {
        return;
      }
      LOG.warnf("warm-up skipped: zero inputs of shapes %s do not run (%s); serving the model un-warmed. Set"
          + " \"warmup_shapes\" in its config.json to an input shape it accepts, or \"warmup\": false",
          shapes(inputs), e.getMessage());
    }
  }

  /** The declared shape with dynamic dims from {@code configured} (if given) or 1. */
  private static long[] shape(TensorSpec spec, List<Long> configured) {
    long[] shape = spec.shape();
    if (configured != null) {
      boolean fits = configured.size() == shape.length;
      for (int i = 0; fits && i < shape.length; i++) {
        fits = configured.get(i) != null && configured.get(i) >= 0 && (shape[i] < 0 || shape[i] == configured.get(i));
      }
      if (!fits) {
        throw ServingException.precondition("warmup_shapes." + spec.name() + " " + configured
            + " does not fit the input's declared shape " + Shapes.format(shape));
      }
      for (int i = 0; i < shape.length; i++) {
        shape[i] = configured.get(i);
      }
      return shape;
    }
    for (int i = 0; i < shape.length; i++) {
      shape[i] = shape[i] < 0 ? 1 : shape[i];
    }
    return shape;
  }

  private static String shapes(Map<String, Tensor> inputs) {
    StringBuilder b = new StringBuilder();
    inputs.forEach((k, t) -> b.append(b.length() == 0 ? "" : ", ").append(k).append(Shapes.format(t.shape())));
    return b.toString();
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
