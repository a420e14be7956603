package dev.pruneserve.grad;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pruneserve.graph.ModelBuilder;
import dev.pruneserve.onnx.proto.Onnx.AttributeProto;
import dev.pruneserve.onnx.proto.Onnx.ModelProto;
import dev.pruneserve.runtime.OrtRuntime;
import dev.pruneserve.session.ModelSession;
import dev.pruneserve.tensor.Tensor;
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
 * Generated backward graphs against central finite differences: each small random graph ends in
 * loss = Σ R ⊙ y (R a fixed random tensor); every differentiated value is a graph input, and for
 * three random directions v per input the directional derivative (L(x + hv) − L(x − hv)) / 2h
 * must equal ⟨∂L/∂x, v⟩ within 1e-3 relative (to the derivative, or to its typical size
 * ‖g‖‖v‖/√n when it is small, where float32 rounding of L dominates).
 */
class BackwardGraphTest {
  @TempDir Path dir;
  private boolean runTimeShapes;

  /** A graph under test: inputs (name → shape) and the nodes producing "y" of shape {@code y}. */
  private record Case(Map<String, long[]> inputs, long[] y, List<Node> nodes) {}

  private record Node(String op, String[] in, String out, AttributeProto... attrs) {}

  private static Node n(String op, String out, String[] in, AttributeProto... a) {
    return new Node(op, in, out, a);
  }

  private static String[] in(String... v) {
    return v;
  }

  private static Map<String, long[]> inputs(Object... nameShape) {
    Map<String, long[]> m = new LinkedHashMap<>();
    for (int i = 0; i < nameShape.length; i += 2) {
      m.put((String) nameShape[i], (long[]) nameShape[i + 1]);
    }
    return m;
  }

  private static long[] s(long... d) {
    return d;
  }

  private static AttributeProto i(String name, long v) {
    return ModelBuilder.intAttr(name, v);
  }

  private static AttributeProto is(String name, long... v) {
    return ModelBuilder.intsAttr(name, v);
  }

  @Test
  void matMulAndGemm() throws Exception {
    check(new Case(inputs("x", s(2, 3, 4), "w", s(4, 5)), s(2, 3, 5), List.of(n("MatMul", "y", in("x", "w")))));
    check(new Case(inputs("a", s(4, 3), "b", s(5, 4), "c", s(5)), s(3, 5), List.of(n("Gemm", "y", in("a", "b", "c"),
        i("transA", 1), i("transB", 1), ModelBuilder.floatAttr("alpha", 0.7f), ModelBuilder.floatAttr("beta", 0.3f)))));
    check(new Case(inputs("a", s(3, 4), "b", s(4, 5), "c", s(3, 1)), s(3, 5),
        List.of(n("Gemm", "y", in("a", "b", "c")))));
  }

  @Test
  void broadcastingElementwise() throws Exception {
    check(new Case(inputs("x", s(2, 3, 4), "b", s(4), "m", s(3, 1), "d", s(1, 4)), s(2, 3, 4), List.of(
        n("Add", "t1", in("x", "b")), n("Mul", "t2", in("t1", "m")), n("Sub", "t3", in("t2", "x")),
        n("Sigmoid", "pos", in("d")), n("Div", "y", in("t3", "pos")))));
  }

  @Test
  void broadcastingOnRunTimeShapes() throws Exception {
    runTimeShapes = true; // the fallback for values whose static shape is unknown
    matMulAndGemm();
    broadcastingElementwise();
  }

  @Test
  void activations() throws Exception {
    check(new Case(inputs("x", s(3, 7)), s(3, 7), List.of(n("Relu", "r", in("x")),
        n("LeakyRelu", "l", in("x"), ModelBuilder.floatAttr("alpha", 0.1f)), n("Tanh", "t", in("x")),
        n("Erf", "e", in("x")), n("Sigmoid", "sg", in("x")), n("Log", "lg", in("sg")), n("Exp", "ex", in("t")),
        n("Sqrt", "sq", in("ex")), n("Add", "a1", in("r", "l")), n("Add", "a2", in("a1", "e")),
        n("Add", "a3", in("a2", "lg")), n("Mul", "a4", in("a3", "sq")), n("Reciprocal", "rc", in("ex")),
        n("Mul", "a5", in("a4", "rc")), n("Neg", "y0", in("a5")),
        n("Identity", "y", in("y0")))));
  }

  @Test
  void softmaxAndReductions() throws Exception {
    check(new Case(inputs("x", s(2, 3, 5)), s(2, 5), List.of(n("Softmax", "p", in("x"), i("axis", 1)),
        n("LogSoftmax", "q", in("x"), i("axis", -1)), n("Mul", "pq", in("p", "q")),
        n("ReduceSum", "y", in("pq", "axes1"), i("keepdims", 0)))), Map.of("axes1", new long[] {1}));
    check(new Case(inputs("x", s(2, 3, 4, 4)), s(2, 3), List.of(n("GlobalAveragePool", "g", in("x")),
        n("Transpose", "t", in("x"), is("perm", 0, 2, 3, 1)), n("ReduceMean", "m", in("t"), is("axes", 1, 2),
            i("keepdims", 1)),
        n("Flatten", "f", in("m")), n("Reshape", "gr", in("g", "shape231")),
        n("Squeeze", "gs", in("gr", "ax2")), n("Unsqueeze", "gu", in("gs", "ax2")), n("Reshape", "gf", in("gu",
            "shape23")),
        n("Mul", "y", in("f", "gf")))), Map.of("shape231", new long[] {2, 3, 1}, "ax2",
            new long[] {2}, "shape23", new long[] {2, 3}));
  }

  @Test
  void convolutionsAndBatchNorm() throws Exception {
    check(new Case(inputs("x", s(2, 3, 7, 7), "w", s(4, 3, 3, 3), "b", s(4)), s(2, 4, 4, 4), List.of(n("Conv", "y",
        in("x", "w", "b"), is("strides", 2, 2), is("pads", 1, 1, 1, 1)))));
    check(new Case(inputs("x", s(1, 4, 6, 6), "w", s(4, 1, 3, 3)), s(1, 4, 2, 2), List.of(n("Conv", "y",
        in("x", "w"), i("group", 4), is("dilations", 2, 2)))));
    check(new Case(inputs("x", s(2, 4, 5, 6), "w", s(6, 2, 2, 3)), s(2, 6, 3, 3), List.of(n("Conv", "y",
        in("x", "w"), i("group", 2), is("strides", 2, 2), is("pads", 1, 0, 0, 1)))));
    check(new Case(inputs("x", s(2, 3, 4, 4), "g", s(3), "b", s(3)), s(2, 3, 4, 4), List.of(n("BatchNormalization",
        "y", in("x", "g", "b", "mean", "var")))), Map.of(), Map.of("mean", new float[] {0.1f, -0.2f, 0.3f}, "var",
            new float[] {0.5f, 1.5f, 2f}));
  }

  @Test
  void indexingAndRouting() throws Exception {
    check(new Case(inputs("a", s(2, 3), "b", s(2, 4), "emb", s(6, 5)), s(2, 3, 5), List.of(
        n("Concat", "ab", in("a", "b"), i("axis", 1)), n("Slice", "mid", in("ab", "st", "en", "ax")),
        n("Cast", "midf", in("mid"), i("to", 1)), n("Unsqueeze", "m3", in("midf", "ax2")),
        n("Gather", "rows6", in("emb", "ids")), n("Reshape", "rows", in("rows6", "shape235")),
        n("Expand", "m3x", in("m3", "shape235")),
        n("Greater", "pos", in("rows", "zero")), n("Where", "w", in("pos", "m3x", "rows")),
        n("Mul", "y", in("w", "rows")))), Map.of("st", new long[] {1}, "en", new long[] {4}, "ax", new long[] {1},
            "ax2", new long[] {2}, "ids", new long[] {0, 5, 2, 2, 1, 4}, "shape235", new long[] {2, 3, 5}),
        Map.of("zero", new float[] {0f}));
  }

  @Test
  void causalLmLossPieces() throws Exception {
    // the in-graph loss: logits[target] − two-stage log-sum-exp over vocabulary chunks
    check(new Case(inputs("logits", s(2, 3, 12)), s(2, 3), List.of(
        n("Reshape", "chunked", in("logits", "chunks")),
        n("ReduceLogSumExp", "lse1", in("chunked"), is("axes", -1), i("keepdims", 0)),
        n("ReduceLogSumExp", "lse", in("lse1"), is("axes", -1), i("keepdims", 0)),
        n("Reshape", "targets", in("targets1d", "tshape")),
        n("GatherElements", "picked3", in("logits", "targets"), i("axis", -1)),
        n("Squeeze", "picked", in("picked3", "last")), n("Sub", "y", in("picked", "lse")))),
        Map.of("chunks", new long[] {0, 0, 3, 4}, "last", new long[] {-1}, "targets1d", new long[] {0, 11, 5, 5, 2, 7},
            "tshape", new long[] {2, 3, 1}));
  }

  @Test
  void maxPool() throws Exception {
    // x·0.01 + a shuffled ramp with steps of 0.1: no two pooled values within a perturbation of each other
    // x + an offset of 0, 3, 6 or 9 per position of each 2×2 window (shuffled per window): x ∈ [−1, 1], so
    // the argmax of a window never changes under a small perturbation
    float[] ramp = new float[2 * 3 * 6 * 6];
    SplittableRandom r = new SplittableRandom(3);
    for (int win = 0; win < 2 * 3 * 9; win++) {
      int[] perm = {0, 1, 2, 3};
      for (int k = 3; k > 0; k--) {
        int j = r.nextInt(k + 1);
        int t = perm[k];
        perm[k] = perm[j];
        perm[j] = t;
      }
      int plane = win / 9;
      int wy = (win % 9) / 3;
      int wx = win % 3;
      for (int k = 0; k < 4; k++) {
        ramp[plane * 36 + (2 * wy + k / 2) * 6 + 2 * wx + k % 2] = 3f * perm[k];
      }
    }
    check(new Case(inputs("x", s(2, 3, 6, 6)), s(2, 3, 3, 3), List.of(n("Reshape", "ramp4", in("ramp", "shape4")),
        n("Add", "xr", in("x", "ramp4")), n("MaxPool", "y", in("xr"), is("kernel_shape", 2, 2), is("strides", 2, 2)))),
        Map.of("shape4", new long[] {2, 3, 6, 6}), Map.of("ramp", ramp));
  }

  @Test
  void splitAndAveragePool() throws Exception {
    // b gets no gradient from y: its share of the input gradient is zeros
    check(new Case(inputs("x", s(2, 6, 3)), s(2, 4, 3), List.of(n("Split", "a,b,c", in("x", "sizes"), i("axis", 1)),
        n("Mul", "aa", in("a", "a")), n("Concat", "y", in("aa", "c"), i("axis", 1)))),
        Map.of("sizes", new long[] {1, 2, 3}));
    check(new Case(inputs("x", s(2, 3, 7, 7)), s(2, 3, 4, 4), List.of(n("AveragePool", "y", in("x"),
        is("kernel_shape", 3, 3), is("strides", 2, 2), is("pads", 1, 1, 1, 1)))));
    check(new Case(inputs("x", s(2, 3, 7, 7)), s(2, 3, 4, 4), List.of(n("AveragePool", "y", in("x"),
        is("kernel_shape", 3, 3), is("strides", 2, 2), is("pads", 1, 1, 1, 1), i("count_include_pad", 1)))));
    check(new Case(inputs("x", s(1, 2, 6, 6)), s(1, 2, 3, 3), List.of(n("AveragePool", "y", in("x"),
        is("kernel_shape", 2, 2), is("strides", 2, 2)))));
  }

  @Test
  void anOpWithoutARuleIsNamed() {
    ModelProto m = model(new Case(inputs("x", s(3)), s(3), List.of(n("Cos", "y", in("x")))), Map.of(), Map.of());
    UnsupportedOperationException e = assertThrows(UnsupportedOperationException.class,
        () -> BackwardGraph.build(m, "loss", List.of("x")));
    assertTrue(e.getMessage().contains("no gradient rule for op Cos (node Cos_0)"), e.getMessage());
  }

  private void check(Case c) throws Exception {
    check(c, Map.of(), Map.of());
  }

  private void check(Case c, Map<String, long[]> intConsts) throws Exception {
    check(c, intConsts, Map.of());
  }

  private void check(Case c, Map<String, long[]> intConsts, Map<String, float[]> floatConsts) throws Exception {
    ModelProto fwd = model(c, intConsts, floatConsts);
    List<String> wrt = List.copyOf(c.inputs().keySet());
    ModelProto bwd = BackwardGraph.build(fwd, "loss", wrt, runTimeShapes);
    SplittableRandom rng = new SplittableRandom(c.nodes().size() * 31L + c.y().length);
    Map<String, float[]> x = new HashMap<>();
    c.inputs().forEach((k, shape) -> x.put(k, ModelBuilder.uniform(rng, count(shape), 1.0)));
    try (ModelSession f = load(fwd, "fwd"); ModelSession b = load(bwd, "bwd")) {
      Map<String, Tensor> out = b.run(feeds(c, x), Set.of(wrt.stream().map(BackwardGraph::gradName)
          .toArray(String[]::new)));
      for (String w : wrt) {
        float[] g = out.get(BackwardGraph.gradName(w)).toFloatArray();
        assertEquals(count(c.inputs().get(w)), g.length, "gradient of " + w + " has the input's size");
        for (int trial = 0; trial < 3; trial++) {
          float[] v = ModelBuilder.uniform(rng, g.length, 1.0);
          double h = 2e-3;
          double numeric = (loss(f, c, x, w, v, h) - loss(f, c, x, w, v, -h)) / (2 * h);
          Directional.assertDerivative(Directional.widen(g), v, numeric, 1e-3, 0, "d loss / d " + w + " along v"
              + trial);
        }
      }
    }
  }

  private static double loss(ModelSession f, Case c, Map<String, float[]> x, String w, float[] v, double h) {
    Map<String, float[]> moved = new HashMap<>(x);
    float[] p = x.get(w).clone();
    for (int k = 0; k < p.length; k++) {
      p[k] += (float) (h * v[k]);
    }
    moved.put(w, p);
    return f.run(feeds(c, moved), Set.of("loss")).get("loss").toFloatArray()[0];
  }

  private static Map<String, Tensor> feeds(Case c, Map<String, float[]> x) {
    Map<String, Tensor> m = new LinkedHashMap<>();
    c.inputs().forEach((k, shape) -> m.put(k, Tensor.fp32(k, shape, x.get(k))));
    return m;
  }

  /** Inputs + nodes + loss = ReduceSum(y ⊙ R), R fixed random. */
  private static ModelProto model(Case c, Map<String, long[]> intConsts, Map<String, float[]> floatConsts) {
    ModelBuilder b = new ModelBuilder("grad-test");
    c.inputs().forEach((k, shape) -> b.input(k, 1, java.util.Arrays.stream(shape).boxed().toArray()));
    intConsts.forEach((k, v) -> b.initializer(k, v, v.length));
    floatConsts.forEach((k, v) -> b.initializer(k, v, v.length));
    b.initializer("R", ModelBuilder.uniform(new SplittableRandom(5), count(c.y()), 1.0), c.y());
    for (Node n : c.nodes()) {
      b.node(n.op(), n.in(), n.out().split(","), n.attrs()); // "a,b": several outputs
    }
    b.node("Mul", new String[] {"y", "R"}, new String[] {"yr"});
    b.node("ReduceSum", new String[] {"yr"}, new String[] {"loss"}, ModelBuilder.intAttr("keepdims", 0));
    b.output("loss", 1);
    return b.build();
  }

  private static int count(long[] shape) {
    long n = 1;
    for (long d : shape) {
      n *= d;
    }
    return (int) n;
  }

  private ModelSession load(ModelProto m, String name) throws Exception {
    Path f = Files.createTempFile(dir, name, ".onnx");
    Files.write(f, m.toByteArray());
    return OrtRuntime.cpu(1).load(name + "/1", f);
  }
}
