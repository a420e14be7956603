package dev.pruneserve.pruning;

import dev.pruneserve.onnx.proto.Onnx.ModelProto;
import dev.pruneserve.session.ModelSession;
import dev.pruneserve.session.SessionLoader;
import dev.pruneserve.tensor.DataType;
import dev.pruneserve.tensor.Tensor;
import dev.pruneserve.tensor.TensorSpec;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;

/**
 * Validates an edited model: first statically ({@link dev.pruneserve.graph.ShapeInference}: shapes
 * agree at every node we can infer, nodes are topologically sorted), then the only way that
 * finally counts: it loads in ONNX Runtime and runs. Inputs are
 * zeros of the declared types, every dynamic dimension 1 except the sequence dimension of KV-cache
 * inputs ({@code past*}, dimension 2), which is 0 (an empty cache). Every output is fetched and
 * floating-point outputs must be finite. Uses a private temporary file, deleted afterwards.
 */
public final class ModelCheck {
  private ModelCheck() {}

  /** @throws IllegalStateException naming the reason when the model does not load, run or stay finite */
  public static void validate(ModelProto model, SessionLoader loader) throws IOException {
    dev.pruneserve.graph.NativeHazards.Report hazards = dev.pruneserve.graph.NativeHazards.analyse(model);
    if (!hazards.safe()) { // running it on synthetic inputs could crash the process
      throw new IllegalStateException("the model has operands that could crash the runtime: "
          + hazards.why());
    }
    java.util.Set<String> divisors = new java.util.HashSet<>();
    hazards.guards().forEach(g -> divisors.add(g.input()));
    var mismatches = dev.pruneserve.graph.ShapeInference.infer(new dev.pruneserve.graph.OnnxGraph(model)).mismatches();
    if (!mismatches.isEmpty()) {
      var m = mismatches.get(0);
      throw new IllegalStateException("edited model is inconsistent at " + m.op() + " node '" + m.node() + "': "
          + m.message() + (mismatches.size() > 1 ? " (and " + (mismatches.size() - 1) + " more)" : ""));
    }
    Path file = Files.createTempFile(dev.pruneserve.repository.Scratch.dir(), "check", ".onnx");
    try {
      dev.pruneserve.repository.ModelFileWriter.write(model, file, false);
      try (ModelSession s = loader.load("check/1", file)) {
        Map<String, Tensor> in = new LinkedHashMap<>();
        for (TensorSpec spec : s.inputs()) {
          Tensor t = zeros(spec);
          if (divisors.contains(spec.name())) { // guarded operands (divisors, Trilu k): ones are safe
            ByteBuffer b = t.data();
            for (int i = 0; i < b.limit(); i += spec.type().byteSize()) {
              b.put(i, (byte) 1);
            }
          }
          in.put(spec.name(), t);
        }
        Set<String> outs = new LinkedHashSet<>();
        s.outputs().forEach(o -> outs.add(o.name()));
        for (Map.Entry<String, Tensor> e : s.run(in, outs).entrySet()) {
          if (e.getValue().type() == DataType.FP32) {
            for (float v : e.getValue().toFloatArray()) {
              if (!Float.isFinite(v)) {
                throw new IllegalStateException("edited model output " + e.getKey() + " is not finite");
              }
            }
          }
        }
      } catch (RuntimeException e) {
        throw new IllegalStateException("edited model failed validation in ONNX Runtime: " + e.getMessage(), e);
      }
    } finally {
      dev.pruneserve.repository.ModelFileWriter.delete(file);
    }
  }

  private static Tensor zeros(TensorSpec spec) {
    long[] shape = spec.shape();
    long n = 1;
    for (int d = 0; d < shape.length; d++) {
      if (shape[d] < 0) {
        shape[d] = spec.name().startsWith("past") && d == 2 ? 0 : 1;
      }
      n *= shape[d];
    }
    if (spec.type() == DataType.BYTES) {
      throw new IllegalStateException("input " + spec.name() + " is BYTES; cannot synthesise it");
    }
    return Tensor.fixed(spec.name(), spec.type(), shape, ByteBuffer.allocate((int) n * spec.type().byteSize()));
  }
}
