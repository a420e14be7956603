package dev.pruneserve.testing;

import static dev.pruneserve.graph.ModelBuilder.intAttr;
import static dev.pruneserve.graph.ModelBuilder.intsAttr;
import static dev.pruneserve.graph.ModelBuilder.uniform;

import dev.pruneserve.graph.ModelBuilder;
import dev.pruneserve.onnx.proto.Onnx.AttributeProto;
import dev.pruneserve.onnx.proto.Onnx.ModelProto;
import java.util.SplittableRandom;

/**
 * Generated CNNs (opset 17, seeded uniform He-scaled weights) for channel-pruning tests. Weight
 * names are for the tests' own bookkeeping; discovery never reads them.
 */
public final class TestCnns {
  private TestCnns() {}

  /**
   * x[N, 3, 16, 16] -> logits[N, 5]. Channel groups, by producing Conv weights (channels):
   * stem+res2+dw (8: stem Conv → BN → Relu, residual Add with res2, depthwise dw), res1 (8),
   * pw (12, then per-channel Mul/Add affine, HardSwish), br1 (6, x·Sigmoid(x)), br2 (10, LeakyRelu),
   * fuse+se2 (16: Concat(br1, br2) → fuse → Relu, SE Mul with se2), se1 (4). Head: GAP → Flatten →
   * Gemm(transB=1). With {@code unknownOp}, an LpNormalization over channels follows pw.
   */
  /** {@code n} uniform [−1, 1) images [c, size, size] with uniform labels in [0, classes), from {@code seed}. */
  public static dev.pruneserve.train.ImageSet randomImages(int n, int c, int size, int classes, long seed) {
    SplittableRandom r = new SplittableRandom(seed);
    int[] labels = new int[n];
    for (int i = 0; i < n; i++) {
      labels[i] = r.nextInt(classes);
    }
    return new dev.pruneserve.train.ImageSet(uniform(r, n * c * size * size, 1.0), labels, c, size, size, classes);
  }

  public static ModelProto cnn(long seed, boolean unknownOp) {
    SplittableRandom rng = new SplittableRandom(seed);
    ModelBuilder b = new ModelBuilder("cnn").input("x", 1, "N", 3L, 16L, 16L);
    conv(b, rng, "stem", "x", "stem.y", 3, 8, 3, 1, 1);
    float[] scale = uniform(rng, 8, 0.2);
    float[] var = uniform(rng, 8, 0.4);
    for (int i = 0; i < 8; i++) {
      scale[i] += 1;
      var[i] = 1 + Math.abs(var[i]);
    }
    b.initializer("bn.scale", scale, 8).initializer("bn.b", uniform(rng, 8, 0.1), 8)
        .initializer("bn.mean", uniform(rng, 8, 0.1), 8).initializer("bn.var", var, 8);
    b.node("BatchNormalization", in("stem.y", "bn.scale", "bn.b", "bn.mean", "bn.var"), out("bn.y"));
    b.node("Relu", in("bn.y"), out("a0"));
    // residual block: res2's output channels are the block input's (Add)
    conv(b, rng, "res1", "a0", "res1.y", 8, 8, 3, 1, 1);
    b.node("Relu", in("res1.y"), out("res1.a"));
    conv(b, rng, "res2", "res1.a", "res2.y", 8, 8, 3, 1, 1);
    b.node("Add", in("res2.y", "a0"), out("res.sum"));
    b.node("Relu", in("res.sum"), out("a1"));
    b.node("Identity", in("a1"), out("a1.id"));
    // depthwise (stride 2) -> ReLU6 -> pointwise
    conv(b, rng, "dw", "a1.id", "dw.y", 8, 8, 3, 2, 8);
    b.initializer("clip.min", new float[] {0f}).initializer("clip.max", new float[] {6f});
    b.node("Clip", in("dw.y", "clip.min", "clip.max"), out("dw.a"));
    conv(b, rng, "pw", "dw.a", "pw.y", 8, 12, 1, 1, 1);
    String pw = "pw.y";
    if (unknownOp) {
      b.node("LpNormalization", in("pw.y"), out("pw.norm"), intAttr("axis", 1), intAttr("p", 2));
      pw = "pw.norm";
    }
    // per-channel affine, HardSwish
    b.initializer("aff.gamma", uniform(rng, 12, 1.0), 1, 12, 1, 1).initializer("aff.beta", uniform(rng, 12, 0.2), 1, 12,
        1, 1);
    b.node("Mul", in(pw, "aff.gamma"), out("aff.m"));
    b.node("Add", in("aff.beta", "aff.m"), out("aff.y"));
    b.node("HardSwish", in("aff.y"), out("a2"));
    // two branches, Concat, fuse
    conv(b, rng, "br1", "a2", "br1.y", 12, 6, 1, 1, 1);
    b.node("Sigmoid", in("br1.y"), out("br1.s"));
    b.node("Mul", in("br1.y", "br1.s"), out("br1.a"));
    conv(b, rng, "br2", "a2", "br2.y", 12, 10, 3, 1, 1);
    b.node("LeakyRelu", in("br2.y"), out("br2.a"), floatAttr("alpha", 0.1f));
    b.node("Concat", in("br1.a", "br2.a"), out("cat"), intAttr("axis", 1));
    conv(b, rng, "fuse", "cat", "fuse.y", 16, 16, 3, 1, 1);
    b.node("Relu", in("fuse.y"), out("a3"));
    // squeeze-excite
    b.node("GlobalAveragePool", in("a3"), out("se.pool"));
    conv(b, rng, "se1", "se.pool", "se1.y", 16, 4, 1, 1, 1);
    b.node("Relu", in("se1.y"), out("se1.a"));
    conv(b, rng, "se2", "se1.a", "se2.y", 4, 16, 1, 1, 1);
    b.node("HardSigmoid", in("se2.y"), out("se.gate"));
    b.node("Mul", in("a3", "se.gate"), out("a4"));
    // head
    b.node("GlobalAveragePool", in("a4"), out("pool"));
    b.node("Flatten", in("pool"), out("flat"));
    b.initializer("fc.w", uniform(rng, 5 * 16, Math.sqrt(6.0 / 16)), 5, 16).initializer("fc.b", uniform(rng, 5, 0.1),
        5);
    b.node("Gemm", in("flat", "fc.w", "fc.b"), out("logits"), intAttr("transB", 1));
    return b.output("logits", 1, "N", 5L).build();
  }

  /**
   * x[N, 3, 8, 8] -> y[N, 7]: c1 (6 channels, 3×3 stride 2) → Relu → c2 (5, 3×3) → Flatten
   * ([N, 5·4·4]) → MatMul fc.w [80, 7] + fc.b, or with {@code gemm} Gemm(transB=1) fc.w [7, 80].
   * Parameters: 168 + 275 + 560 + 7 = 1010.
   */
  public static ModelProto flatHead(long seed, boolean gemm) {
    SplittableRandom rng = new SplittableRandom(seed);
    ModelBuilder b = new ModelBuilder("flat").input("x", 1, "N", 3L, 8L, 8L);
    conv(b, rng, "c1", "x", "c1.y", 3, 6, 3, 2, 1);
    b.node("Relu", in("c1.y"), out("c1.a"));
    conv(b, rng, "c2", "c1.a", "c2.y", 6, 5, 3, 1, 1);
    b.node("Flatten", in("c2.y"), out("flat"), intAttr("axis", 1));
    float[] w = uniform(rng, 80 * 7, Math.sqrt(6.0 / 80));
    if (gemm) {
      b.initializer("fc.w", w, 7, 80).initializer("fc.b", uniform(rng, 7, 0.1), 7);
      b.node("Gemm", in("flat", "fc.w", "fc.b"), out("y"), intAttr("transB", 1));
    } else {
      b.initializer("fc.w", w, 80, 7).initializer("fc.b", uniform(rng, 7, 0.1), 7);
      b.node("MatMul", in("flat", "fc.w"), out("mm"));
      b.node("Add", in("mm", "fc.b"), out("y"));
    }
    return b.output("y", 1, "N", 7L).build();
  }

  /**
   * x[N, 3, 16, 16] → logits[N, 5] with the patterns third-party exporters write (tf2onnx,
   * PaddleOCR): tf2onnx's clip {@code Min(Max(LeakyRelu(x), 0), 6)} with scalar constants, PRelu
   * with per-channel slopes [C, 1, 1], Pow by a scalar, a 2-channel squeeze-excite, ConvTranspose
   * (stride 2) followed by Resize by scales [1, 1, 0.5, 0.5], a per-channel Div. Weights as
   * initializers; {@link #constantNodes} and {@link #castWeights} give the other storage forms.
   */
  public static ModelProto thirdParty(long seed) {
    SplittableRandom rng = new SplittableRandom(seed);
    ModelBuilder b = new ModelBuilder("third-party").input("x", 1, "N", 3L, 16L, 16L);
    conv(b, rng, "stem", "x", "stem.y", 3, 8, 3, 1, 1);
    b.node("LeakyRelu", in("stem.y"), out("stem.l"), floatAttr("alpha", 0.2f));
    b.initializer("zero", new float[] {0f}).initializer("six", new float[] {6f});
    b.node("Max", in("stem.l", "zero"), out("stem.max"));
    b.node("Min", in("stem.max", "six"), out("a0"));
    conv(b, rng, "c1", "a0", "c1.y", 8, 12, 3, 1, 1);
    b.initializer("prelu.slope", uniform(rng, 12, 0.3), 12, 1, 1);
    b.node("PRelu", in("c1.y", "prelu.slope"), out("c1.a"));
    b.initializer("two", new float[] {2f});
    b.node("Pow", in("c1.a", "two"), out("c1.sq"));
    b.initializer("div.c", new float[] {1.5f, 2f, 2.5f, 3f, 1.5f, 2f, 2.5f, 3f, 1.5f, 2f, 2.5f, 3f}, 1, 12, 1, 1);
    b.node("Div", in("c1.sq", "div.c"), out("a1"));
    // squeeze-excite with 2 channels in its bottleneck
    b.node("GlobalAveragePool", in("a1"), out("se.pool"));
    conv(b, rng, "se1", "se.pool", "se1.y", 12, 2, 1, 1, 1);
    b.node("Relu", in("se1.y"), out("se1.a"));
    conv(b, rng, "se2", "se1.a", "se2.y", 2, 12, 1, 1, 1);
    b.node("HardSigmoid", in("se2.y"), out("se.gate"));
    b.node("Mul", in("a1", "se.gate"), out("a2"));
    // upsample by a transposed conv, back down by Resize
    b.initializer("up.w", uniform(rng, 12 * 6 * 2 * 2, Math.sqrt(6.0 / 48)), 12, 6, 2, 2);
    b.initializer("up.b", uniform(rng, 6, 0.1), 6);
    b.node("ConvTranspose", in("a2", "up.w", "up.b"), out("up.y"), intsAttr("kernel_shape", 2, 2),
        intsAttr("strides", 2, 2));
    b.initializer("resize.scales", new float[] {1f, 1f, 0.5f, 0.5f}, 4);
    b.node("Resize", in("up.y", "", "resize.scales"), out("down.y"),
        AttributeProto.newBuilder().setName("mode").setType(AttributeProto.AttributeType.STRING)
            .setS(com.google.protobuf.ByteString.copyFromUtf8("nearest")).build());
    b.node("Relu", in("down.y"), out("a3"));
    conv(b, rng, "c2", "a3", "c2.y", 6, 10, 3, 2, 1);
    b.node("HardSwish", in("c2.y"), out("a4"));
    b.node("GlobalAveragePool", in("a4"), out("pool"));
    b.node("Flatten", in("pool"), out("flat"));
    b.initializer("fc.w", uniform(rng, 5 * 10, Math.sqrt(6.0 / 10)), 5, 10).initializer("fc.b", uniform(rng, 5, 0.1),
        5);
    b.node("Gemm", in("flat", "fc.w", "fc.b"), out("logits"), intAttr("transB", 1));
    return b.output("logits", 1, "N", 5L).build();
  }

  /** {@code m} with every initializer a Constant node of the same name (PaddleOCR's form). */
  public static ModelProto constantNodes(ModelProto m) {
    var g = m.getGraph().toBuilder().clearInitializer().clearNode();
    for (var t : m.getGraph().getInitializerList()) {
      g.addNode(dev.pruneserve.onnx.proto.Onnx.NodeProto.newBuilder().setOpType("Constant").setName(t.getName()
          + ".const").addOutput(t.getName()).addAttribute(AttributeProto.newBuilder().setName("value")
              .setType(AttributeProto.AttributeType.TENSOR).setT(t.toBuilder().clearName())));
    }
    g.addAllNode(m.getGraph().getNodeList());
    return m.toBuilder().setGraph(g).build();
  }

  /**
   * {@code m} with every 4-D weight stored as FP16 behind {@code Cast(to float)} and every 1-D bias
   * behind {@code Identity} (weights rounded to FP16, so compare against {@link HalfModels#rounded}).
   */
  public static ModelProto castWeights(ModelProto m) {
    ModelProto r = HalfModels.rounded(m);
    var g = r.getGraph().toBuilder().clearInitializer().clearNode();
    for (var t : r.getGraph().getInitializerList()) {
      String stored = t.getName() + ".stored";
      if (t.getDimsCount() == 4) {
        var f = dev.pruneserve.graph.FloatTensors.values(t);
        float[] v = new float[f.remaining()];
        f.get(v);
        g.addInitializer(t.toBuilder().setName(stored).setDataType(10).setRawData(dev.pruneserve.graph.FloatTensors
            .encode(v, 10)));
        g.addNode(dev.pruneserve.onnx.proto.Onnx.NodeProto.newBuilder().setOpType("Cast").setName(stored + ".cast")
            .addInput(stored).addOutput(t.getName()).addAttribute(intAttr("to", 1)));
      } else if (t.getDimsCount() == 1 && t.getDims(0) > 1) {
        g.addInitializer(t.toBuilder().setName(stored));
        g.addNode(dev.pruneserve.onnx.proto.Onnx.NodeProto.newBuilder().setOpType("Identity").setName(stored + ".id")
            .addInput(stored).addOutput(t.getName()));
      } else {
        g.addInitializer(t);
      }
    }
    g.addAllNode(r.getGraph().getNodeList());
    return r.toBuilder().setGraph(g).build();
  }

  /** x[N, 3, 8, 8]: conv → Transpose to NHWC → Relu → Transpose back → conv → GAP → Flatten (tf2onnx layout). */
  public static ModelProto nhwc(long seed) {
    SplittableRandom rng = new SplittableRandom(seed);
    ModelBuilder b = new ModelBuilder("nhwc").input("x", 1, "N", 3L, 8L, 8L);
    conv(b, rng, "c1", "x", "c1.y", 3, 6, 3, 1, 1);
    b.node("Transpose", in("c1.y"), out("nhwc"), intsAttr("perm", 0, 2, 3, 1));
    b.node("Relu", in("nhwc"), out("nhwc.a"));
    b.node("Transpose", in("nhwc.a"), out("nchw"), intsAttr("perm", 0, 3, 1, 2));
    conv(b, rng, "c2", "nchw", "c2.y", 6, 4, 3, 1, 1);
    b.node("GlobalAveragePool", in("c2.y"), out("pool"));
    b.node("Flatten", in("pool"), out("y"));
    return b.output("y", 1, "N", 4L).build();
  }

  /**
   * x[N, 3, 8, 8] → logits[N, 5], tf2onnx's channels-last layout between NCHW convolutions:
   * Transpose to NHWC → Mul by a per-channel [6] slope and Add of a [1, 1, 1, 6] bias (both on the
   * last axis) → Relu → Transpose back → two convs, each transposed to NHWC → Concat on axis −1 →
   * ReduceMean over [1, 2] without keepdims (tf2onnx's global pooling) → MatMul [12, 5] + bias.
   */
  public static ModelProto nhwcHead(long seed) {
    SplittableRandom rng = new SplittableRandom(seed);
    ModelBuilder b = new ModelBuilder("nhwc-head").input("x", 1, "N", 3L, 8L, 8L);
    conv(b, rng, "c1", "x", "c1.y", 3, 6, 3, 1, 1);
    b.node("Transpose", in("c1.y"), out("t1"), intsAttr("perm", 0, 2, 3, 1));
    b.initializer("slope", uniform(rng, 6, 1.0), 6).initializer("shift", uniform(rng, 6, 0.2), 1, 1, 1, 6);
    b.node("Mul", in("t1", "slope"), out("t1.m"));
    b.node("Add", in("t1.m", "shift"), out("t1.a"));
    b.node("Relu", in("t1.a"), out("t1.r"));
    b.node("Transpose", in("t1.r"), out("back"), intsAttr("perm", 0, 3, 1, 2));
    conv(b, rng, "c2", "back", "c2.y", 6, 8, 3, 2, 1);
    conv(b, rng, "c3", "back", "c3.y", 6, 4, 3, 2, 1);
    b.node("Transpose", in("c2.y"), out("t2"), intsAttr("perm", 0, 2, 3, 1));
    b.node("Transpose", in("c3.y"), out("t3"), intsAttr("perm", 0, 2, 3, 1));
    b.node("Concat", in("t2", "t3"), out("cat"), intAttr("axis", -1));
    b.node("ReduceMean", in("cat"), out("gap"), intsAttr("axes", 1, 2), intAttr("keepdims", 0));
    b.initializer("fc.w", uniform(rng, 12 * 5, Math.sqrt(6.0 / 12)), 12, 5).initializer("fc.b", uniform(rng, 5,
        0.1), 5);
    b.node("MatMul", in("gap", "fc.w"), out("mm"));
    b.node("Add", in("mm", "fc.b"), out("y"));
    return b.output("y", 1, "N", 5L).build();
  }

  /**
   * x[N, 3, L] → y[N, 4], a 1-D CNN (audio front ends): Conv1d → Mul by a per-channel [6, 1]
   * constant (broadcast on the channel axis of a rank-3 map) → Relu → Conv1d → ReduceMean over the
   * time axis without keepdims → MatMul [5, 4].
   */
  public static ModelProto conv1d(long seed) {
    SplittableRandom rng = new SplittableRandom(seed);
    ModelBuilder b = new ModelBuilder("conv1d").input("x", 1, "N", 3L, "L");
    b.initializer("c1.w", uniform(rng, 6 * 3 * 3, Math.sqrt(6.0 / 9)), 6, 3, 3).initializer("c1.b", uniform(rng, 6,
        0.1), 6);
    b.node("Conv", in("x", "c1.w", "c1.b"), out("c1.y"), intsAttr("kernel_shape", 3), intsAttr("pads", 1, 1));
    b.initializer("scale", uniform(rng, 6, 1.0), 6, 1);
    b.node("Mul", in("c1.y", "scale"), out("c1.s"));
    b.node("Relu", in("c1.s"), out("c1.a"));
    b.initializer("c2.w", uniform(rng, 5 * 6 * 3, Math.sqrt(6.0 / 18)), 5, 6, 3).initializer("c2.b", uniform(rng, 5,
        0.1), 5);
    b.node("Conv", in("c1.a", "c2.w", "c2.b"), out("c2.y"), intsAttr("kernel_shape", 3), intsAttr("pads", 1, 1));
    b.node("ReduceMean", in("c2.y"), out("pool"), intsAttr("axes", 2), intAttr("keepdims", 0));
    b.initializer("fc.w", uniform(rng, 5 * 4, Math.sqrt(6.0 / 5)), 5, 4);
    b.node("MatMul", in("pool", "fc.w"), out("y"));
    return b.output("y", 1, "N", 4L).build();
  }

  /**
   * x[N, 3, 8, 8] → y[N, 4], Keras's Flatten after tf2onnx: conv → Transpose to NHWC → Flatten →
   * MatMul. Flattening a channels-last map interleaves the channels, which is not followed: nothing
   * here is prunable.
   */
  public static ModelProto channelsLastFlatten(long seed) {
    SplittableRandom rng = new SplittableRandom(seed);
    ModelBuilder b = new ModelBuilder("nhwc-flatten").input("x", 1, "N", 3L, 8L, 8L);
    conv(b, rng, "c1", "x", "c1.y", 3, 6, 3, 2, 1);
    b.node("Transpose", in("c1.y"), out("nhwc"), intsAttr("perm", 0, 2, 3, 1));
    b.node("Flatten", in("nhwc"), out("flat"), intAttr("axis", 1));
    b.initializer("fc.w", uniform(rng, 96 * 4, Math.sqrt(6.0 / 96)), 96, 4);
    b.node("MatMul", in("flat", "fc.w"), out("y"));
    return b.output("y", 1, "N", 4L).build();
  }

  /** Conv {@code name}.w [cout, cin/group, k, k] + {@code name}.b, "same" padding. */
  private static void conv(ModelBuilder b, SplittableRandom rng, String name, String x, String y, int cin, int cout,
      int k, int stride, int group) {
    int fanIn = cin / group * k * k;
    b.initializer(name + ".w", uniform(rng, cout * fanIn, Math.sqrt(6.0 / fanIn)), cout, cin / group, k, k);
    b.initializer(name + ".b", uniform(rng, cout, 0.1), cout);
    int p = k / 2;
    b.node("Conv", in(x, name + ".w", name + ".b"), out(y), intsAttr("kernel_shape", k, k),
        intsAttr("pads", p, p, p, p), intsAttr("strides", stride, stride), intAttr("group", group));
  }

  private static AttributeProto floatAttr(String name, float v) {
    return AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.FLOAT).setF(v).build();
  }

  private static String[] in(String... names) {
    return names;
  }

  private static String[] out(String... names) {
    return names;
  }
}
