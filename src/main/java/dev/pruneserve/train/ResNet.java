package dev.pruneserve.train;

import static dev.pruneserve.graph.ModelBuilder.intAttr;
import static dev.pruneserve.graph.ModelBuilder.intsAttr;

import dev.pruneserve.graph.ModelBuilder;
import dev.pruneserve.onnx.proto.Onnx.ModelProto;
import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * A ResNet-style image classifier in inference form (opset 17): {@code x[N, C, H, W] →
 * logits[N, classes]}. Stem Conv3×3 → BN → ReLU; per stage ({@code widths[s]} channels, stride 2
 * from the second stage on) {@code blocks} basic blocks Conv3×3 → BN → ReLU → Conv3×3 → BN, plus
 * the identity or a Conv1×1 → BN projection, residual Add, ReLU; GlobalAveragePool → Flatten →
 * Gemm(transB = 1). Convs have no bias (BN follows). Initialisation as torchvision's: Kaiming normal
 * (fan_out, ReLU) for convs, BN γ = 1, β = 0, running mean 0 and variance 1, Gemm uniform
 * ±1/√fan_in; reproducible from {@code seed}.
 */
public final class ResNet {
  private final ModelBuilder b;
  private final SplittableRandom rng;
  private int convs;

  private ResNet(String name, long seed) {
    this.b = new ModelBuilder(name);
    this.rng = new SplittableRandom(seed);
  }

  public static ModelProto build(String name, long seed, int inChannels, int size, int classes, int blocks,
      int... widths) {
    if (widths.length == 0 || blocks < 1) {
      throw new IllegalArgumentException("a ResNet needs at least one stage and one block per stage");
    }
    ResNet r = new ResNet(name, seed);
    r.b.input("x", 1, "N", (long) inChannels, (long) size, (long) size).output("logits", 1, "N", (long) classes);
    String x = r.relu(r.convBn("x", inChannels, widths[0], 3, 1));
    int c = widths[0];
    for (int s = 0; s < widths.length; s++) {
      for (int k = 0; k < blocks; k++) {
        int stride = s > 0 && k == 0 ? 2 : 1;
        x = r.block(x, c, widths[s], stride);
        c = widths[s];
      }
    }
    r.b.node("GlobalAveragePool", new String[] {x}, new String[] {"pool"});
    r.b.node("Flatten", new String[] {"pool"}, new String[] {"flat"}, intAttr("axis", 1));
    double bound = 1 / Math.sqrt(c);
    r.b.initializer("fc.weight", ModelBuilder.uniform(r.rng, classes * c, bound), classes, c);
    r.b.initializer("fc.bias", ModelBuilder.uniform(r.rng, classes, bound), classes);
    r.b.node("Gemm", new String[] {"flat", "fc.weight", "fc.bias"}, new String[] {"logits"}, intAttr("transB", 1));
    return r.b.build();
  }

  private String block(String x, int in, int out, int stride) {
    String h = relu(convBn(x, in, out, 3, stride));
    String y = convBn(h, out, out, 3, 1);
    String shortcut = stride == 1 && in == out ? x : convBn(x, in, out, 1, stride);
    String sum = "add" + convs;
    b.node("Add", new String[] {y, shortcut}, new String[] {sum});
    return relu(sum);
  }

  private String convBn(String x, int in, int out, int k, int stride) {
    String p = "conv" + convs++;
    float[] w = new float[out * in * k * k];
    double std = Math.sqrt(2.0 / (out * k * k));
    for (int i = 0; i < w.length; i++) {
      w[i] = (float) (std * gaussian());
    }
    b.initializer(p + ".weight", w, out, in, k, k);
    b.node("Conv", new String[] {x, p + ".weight"}, new String[] {p + ".y"}, intsAttr("kernel_shape", k, k),
        intsAttr("strides", stride, stride), intsAttr("pads", k / 2, k / 2, k / 2, k / 2));
    float[] ones = new float[out];
    Arrays.fill(ones, 1f);
    b.initializer(p + ".bn.weight", ones, out).initializer(p + ".bn.bias", new float[out], out)
        .initializer(p + ".bn.mean", new float[out], out).initializer(p + ".bn.var", ones.clone(), out);
    b.node("BatchNormalization", new String[] {p + ".y", p + ".bn.weight", p + ".bn.bias", p + ".bn.mean",
        p + ".bn.var"}, new String[] {p + ".bn.y"});
    return p + ".bn.y";
  }

  private String relu(String x) {
    String y = x + ".relu";
    b.node("Relu", new String[] {x}, new String[] {y});
    return y;
  }

  private double gaussian() {
    double u = 1 - rng.nextDouble();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng.nextDouble());
  }
}
