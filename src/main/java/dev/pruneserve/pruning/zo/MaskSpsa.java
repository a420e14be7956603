package dev.pruneserve.pruning.zo;

import dev.pruneserve.pruning.transformer.HeadGroup;
import dev.pruneserve.pruning.transformer.MlpGroup;
import dev.pruneserve.tensor.Tensor;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * pruneserve's mask-space extension (not in the MINI-LLM paper): one scalar gate per head (a Mul on
 * that head's context entries, the input of o_proj) and per MLP channel (a Mul on the SwiGLU
 * intermediate, the input of down_proj), all 1 at the dense point; SPSA over the m gates instead of
 * the millions of weights, so the estimator's per-coordinate signal-to-noise ratio is ≈ q/m instead
 * of q/d (algorithms.md §2.7). ∂L/∂gate_h = Σ over the o-rows of head h of g ⊙ W, so |ĝ_gate| is
 * the first-order Taylor estimate of removing the group. Single-threaded.
 */
final class MaskSpsa implements Perturbation {
  private static final int STREAM_BASE = 1 << 20; // keeps gate streams apart from weight streams

  private final List<HeadGroup> blocks;
  private final List<MlpGroup> mlps;
  private final List<Integer> layers;

  MaskSpsa(List<HeadGroup> blocks, List<MlpGroup> mlps, List<Integer> layers) {
    this.blocks = blocks;
    this.mlps = mlps;
    this.layers = layers;
  }

  static String headGate(int layer) {
    return "zo.gate.heads." + layer;
  }

  static String channelGate(int layer) {
    return "zo.gate.channels." + layer;
  }

  List<LossProbe.Gate> gates() {
    List<LossProbe.Gate> g = new ArrayList<>();
    for (int l : layers) {
      HeadGroup b = blocks.get(l);
      g.add(new LossProbe.Gate(headGate(l), b.oWeight(), b.units() * b.unitWidth()));
      g.add(new LossProbe.Gate(channelGate(l), mlps.get(l).downWeight(), mlps.get(l).width()));
    }
    return g;
  }

  /** Gate values 1 + sign·ε·z_query (sign 0 = all ones, the dense model). */
  @Override
  public Map<String, Tensor> feeds(CounterRng rng, int query, double sign, double epsilon) {
    Map<String, Tensor> out = new LinkedHashMap<>();
    for (int l : layers) {
      HeadGroup b = blocks.get(l);
      out.put(headGate(l),
          gate(headGate(l), b.units() * b.unitWidth(), b.unitWidth(), rng, query, 2 * l, sign, epsilon));
      out.put(channelGate(l), gate(channelGate(l), mlps.get(l).width(), 1, rng, query, 2 * l + 1, sign, epsilon));
    }
    return out;
  }

  /** Entry i = 1 + sign·ε·z[i / repeat] of stream (query, unit set). */
  private static Tensor gate(String name, int width, int repeat, CounterRng rng, int query, int units, double sign,
      double epsilon) {
    float[] v = new float[width];
    java.util.Arrays.fill(v, 1f);
    if (sign != 0) {
      long s = rng.stream(query, STREAM_BASE + units);
      for (int i = 0; i < width; i++) {
        v[i] = (float) (1 + sign * epsilon * rng.z(s, i / repeat));
      }
    }
    return Tensor.fp32(name, new long[] {width}, v);
  }

  /** Signed ĝ per head ([0]) and per channel ([1]) of layer {@code l}: (1/q) Σ c_i z_i. */
  double[][] gradient(CounterRng rng, double[] c, int l) {
    double[] h = new double[blocks.get(l).units()];
    double[] ch = new double[mlps.get(l).width()];
    for (int i = 0; i < c.length; i++) {
      long hs = rng.stream(i, STREAM_BASE + 2 * l);
      long cs = rng.stream(i, STREAM_BASE + 2 * l + 1);
      for (int u = 0; u < h.length; u++) {
        h[u] += c[i] * rng.z(hs, u) / c.length;
      }
      for (int u = 0; u < ch.length; u++) {
        ch[u] += c[i] * rng.z(cs, u) / c.length;
      }
    }
    return new double[][] {h, ch};
  }
}
