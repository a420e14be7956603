package dev.pruneserve.grad;

import dev.pruneserve.graph.ModelBuilder;
import dev.pruneserve.onnx.proto.Onnx.ModelProto;
import dev.pruneserve.onnx.proto.Onnx.NodeProto;
import dev.pruneserve.runtime.OrtRuntime;
import dev.pruneserve.session.ModelSession;
import dev.pruneserve.tensor.Tensor;
import dev.pruneserve.testing.TestCnns;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * End to end on a CNN ({@link TestCnns#cnn}: BatchNorm, residual Add, depthwise stride-2 conv, Clip,
 * per-channel affine, HardSwish, SiLU, LeakyReLU, Concat, squeeze-excite with HardSigmoid, GAP,
 * Gemm) with a dynamic batch: gradients of loss = Σ R ⊙ logits w.r.t. every conv/Gemm weight and
 * the BatchNorm/affine parameters against central differences with a step of 1e-4 (so kinks are
 * rarely crossed): 1e-3 relative along the gradient's direction, 1e-2 along a random one, plus the
 * float32 noise floor of that step.
 */
class CnnGradientTest {
  @TempDir Path dir;

  @Test
  void cnnGradientsMatchFiniteDifferences() throws Exception {
    ModelProto cnn = TestCnns.cnn(3, false);
    var g = cnn.getGraph().toBuilder();
    g.addInitializer(dev.pruneserve.onnx.proto.Onnx.TensorProto.newBuilder().setName("R").setDataType(1).addDims(1)
        .addDims(5).addFloatData(0.7f).addFloatData(-1.1f).addFloatData(0.4f).addFloatData(1.3f).addFloatData(-0.5f));
    g.addNode(NodeProto.newBuilder().setOpType("Mul").setName("lossmul").addInput("logits").addInput("R")
        .addOutput("lr"));
    g.addNode(NodeProto.newBuilder().setOpType("ReduceSum").setName("losssum").addInput("lr").addOutput("loss")
        .addAttribute(ModelBuilder.intAttr("keepdims", 0)));
    g.addOutput(dev.pruneserve.onnx.proto.Onnx.ValueInfoProto.newBuilder().setName("loss"));
    List<String> wrt = g.getInitializerList().stream().filter(t -> t.getName().endsWith(".w")
        || t.getName().equals("fc.w") || t.getName().startsWith("bn.scale") || t.getName().startsWith("aff.gamma"))
        .map(t -> t.getName()).toList();
    Map<String, float[]> values = new HashMap<>();
    Map<String, long[]> dims = new HashMap<>();
    ModelProto fwd = DecoderGradientTest.asInputs(cnn.toBuilder().setGraph(g).build(), wrt, values, dims);
    ModelProto bwd = BackwardGraph.build(fwd, "loss", wrt);
    SplittableRandom rng = new SplittableRandom(9);
    Tensor x = Tensor.fp32("x", new long[] {2, 3, 16, 16}, ModelBuilder.uniform(rng, 2 * 3 * 16 * 16, 1.0));
    try (ModelSession f = load(fwd, "fwd"); ModelSession b = load(bwd, "bwd")) {
      Map<String, Tensor> in = new LinkedHashMap<>(DecoderGradientTest.weights(values, dims));
      in.put("x", x);
      Map<String, Tensor> out = b.run(in, Set.copyOf(wrt.stream().map(BackwardGraph::gradName).toList()));
      for (String w : wrt) {
        float[] gw = out.get(BackwardGraph.gradName(w)).toFloatArray();
        float max = 0;
        for (float v : gw) {
          max = Math.max(max, Math.abs(v));
        }
        float[] along = new float[gw.length];
        for (int k = 0; k < gw.length; k++) {
          along[k] = gw[k] / max;
        }
        check(f, x, values, dims, w, gw, along, 1e-3, 1e-4);
        // steps of 1e-4 rarely cross a ReLU/Clip/HardSwish kink; random directions carry less signal (1e-2)
        check(f, x, values, dims, w, gw, ModelBuilder.uniform(rng, gw.length, 1.0), 1e-2, 1e-4);
      }
    }
  }

  private static void check(ModelSession f, Tensor x, Map<String, float[]> values, Map<String, long[]> dims, String w,
      float[] g, float[] v, double tolerance, double h) {
    double numeric = (loss(f, x, values, dims, w, v, h) - loss(f, x, values, dims, w, v, -h)) / (2 * h);
    // plus the float32 noise floor of a step this small: ~ulp(loss ≈ 1) / 2h ≈ 2e-3
    Directional.assertDerivative(Directional.widen(g), v, numeric, tolerance, 2e-3, "d loss / d " + w
        + " (tolerance " + tolerance + ")");
  }

  private static double loss(ModelSession f, Tensor x, Map<String, float[]> values, Map<String, long[]> dims,
      String w, float[] v, double h) {
    Map<String, float[]> moved = new HashMap<>(values);
    float[] p = values.get(w).clone();
    for (int k = 0; k < p.length; k++) {
      p[k] += (float) (h * v[k]);
    }
    moved.put(w, p);
    Map<String, Tensor> in = new LinkedHashMap<>(DecoderGradientTest.weights(moved, dims));
    in.put("x", x);
    return f.run(in, Set.of("loss")).get("loss").toFloatArray()[0];
  }

  private ModelSession load(ModelProto m, String name) throws Exception {
    Path file = Files.createTempFile(dir, name, ".onnx");
    Files.write(file, m.toByteArray());
    return OrtRuntime.cpu(1).load(name + "/1", file);
  }
}
