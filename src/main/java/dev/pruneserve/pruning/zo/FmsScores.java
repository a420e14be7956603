package dev.pruneserve.pruning.zo;

import java.util.List;
import java.util.stream.IntStream;

/**
 * Eq. (9) and group aggregation (algorithms.md §2.3–2.4), streaming: for each element of each
 * scored weight, ĝ = (1/q) Σ_i c_i z_i is regenerated (never stored), scored by the FMS variant
 * and reduced into its head or MLP channel. The gradient-free limit Σ|W|·‖X_j‖₂ (the q = 1 limit of
 * §2.7, a diagnostic) comes from the same sweep. Tensors are swept in parallel; each group
 * accumulates in float64.
 */
public final class FmsScores {
  /** FMS variants: A = |W·ĝ|·‖X_j‖₂ (default), C = |W·ĝ·x̄_j|, D = |W·ĝ|·‖X_j‖₂². */
  public enum Variant {
    A, C, D
  }

  /** How element scores reduce into a group. */
  public enum Reduction {
    SUM, MEAN, MAX
  }

  /** Per-layer group scores (index = layer; null outside the scored layers). */
  record Scores(double[][] heads, double[][] channels, double[][] waHeads, double[][] waChannels) {}

  /**
   * Per-input-channel activation statistics of one tensor's input: Σ_t x_j² and x̄_j over all
   * calibration tokens.
   */
  record Activation(double[] sumSquares, double[] mean) {}

  private FmsScores() {}

  /**
   * Per layer l: {@code heads[l]} (prunable units), {@code channels[l]} (layers may differ, e.g.
   * in a variant pruned before). {@code perTensor} runs after each tensor, on the sweeping thread.
   */
  static Scores sweep(List<ScoredTensor> tensors, List<float[]> weights, List<Activation> acts, double[] c,
      CounterRng rng, Variant variant, Reduction reduction, int[] heads, int[] channels, Runnable perTensor) {
    return scores(tensors, weights, acts, i -> spsa(tensors.get(i), c, rng), variant, reduction, heads, channels,
        perTensor);
  }

  /**
   * The same scores from known gradients {@code grads} (∂L/∂W per tensor, row-major like the
   * weights): Eq. 9 with the exact gradient in place of ĝ, the reference the estimator approximates.
   */
  public static Scores exact(List<ScoredTensor> tensors, List<float[]> weights, List<double[]> grads,
      List<Activation> acts, Variant variant, Reduction reduction, int[] heads, int[] channels) {
    return scores(tensors, weights, acts, i -> k -> grads.get(i)[(int) k], variant, reduction, heads, channels,
        () -> {});
  }

  /** Gradient estimate of one tensor's element {@code k} (row-major index). */
  interface ElementGradient {
    double at(long k);
  }

  /** ĝ_k = (1/q) Σ_i c_i·z_i(k), regenerated from the counter-based directions; 0 without queries. */
  private static ElementGradient spsa(ScoredTensor t, double[] c, CounterRng rng) {
    int q = c.length;
    long[] streams = new long[q];
    for (int i = 0; i < q; i++) {
      streams[i] = rng.stream(i, t.id());
    }
    return k -> {
      double g = 0;
      for (int i = 0; i < q; i++) {
        g += c[i] * rng.z(streams[i], k);
      }
      return q == 0 ? 0 : g / q;
    };
  }

  private static Scores scores(List<ScoredTensor> tensors, List<float[]> weights, List<Activation> acts,
      java.util.function.IntFunction<ElementGradient> gradients, Variant variant, Reduction reduction,
      int[] heads, int[] channels, Runnable perTensor) {
    int layers = heads.length;
    double[][][] parts = new double[tensors.size()][][];
    IntStream.range(0, tensors.size()).parallel().forEach(i -> {
      ScoredTensor t = tensors.get(i);
      parts[i] = tensor(t, weights.get(i), acts.get(i), gradients.apply(i), variant, reduction,
          t.role().head ? heads[t.layer()] : channels[t.layer()]);
      perTensor.run();
    });
    double[][] h = new double[layers][];
    double[][] ch = new double[layers][];
    double[][] wh = new double[layers][];
    double[][] wc = new double[layers][];
    for (int i = 0; i < tensors.size(); i++) {
      ScoredTensor t = tensors.get(i);
      boolean head = t.role().head;
      int l = t.layer();
      int n = head ? heads[l] : channels[l];
      double[][] s = head ? h : ch;
      double[][] w = head ? wh : wc;
      s[l] = s[l] == null ? new double[n] : s[l];
      w[l] = w[l] == null ? new double[n] : w[l];
      for (int g = 0; g < n; g++) {
        s[l][g] = reduction == Reduction.MAX ? Math.max(s[l][g], parts[i][0][g]) : s[l][g] + parts[i][0][g];
        w[l][g] += parts[i][1][g];
      }
    }
    if (reduction == Reduction.MEAN) { // parts held sums over each tensor: divide by the group's element count
      divide(h, tensors, true);
      divide(ch, tensors, false);
    }
    return new Scores(h, ch, wh, wc);
  }

  /** [0] = FMS per group (sum, or max), [1] = Σ|W|·‖X‖ per group. */
  private static double[][] tensor(ScoredTensor t, float[] w, Activation a, ElementGradient grad, Variant variant,
      Reduction reduction, int groups) {
    double[] score = new double[groups];
    double[] wa = new double[groups];
    for (int j = 0; j < t.in(); j++) {
      double norm = Math.sqrt(a.sumSquares()[j]);
      double x = switch (variant) {
        case A -> norm;
        case C -> Math.abs(a.mean()[j]);
        case D -> a.sumSquares()[j];
      };
      for (int r = 0; r < t.out(); r++) {
        long k = (long) j * t.out() + r;
        double wk = Math.abs(w[(int) k]);
        double s = wk * Math.abs(grad.at(k)) * x;
        int grp = t.group(j, r);
        score[grp] = reduction == Reduction.MAX ? Math.max(score[grp], s) : score[grp] + s;
        wa[grp] += wk * norm;
      }
    }
    return new double[][] {score, wa};
  }

  private static void divide(double[][] scores, List<ScoredTensor> tensors, boolean head) {
    for (int l = 0; l < scores.length; l++) {
      if (scores[l] == null) {
        continue;
      }
      long elements = 0;
      for (ScoredTensor t : tensors) {
        if (t.layer() == l && t.role().head == head) {
          elements += (long) t.in() * t.out();
        }
      }
      double perGroup = (double) elements / scores[l].length;
      for (int g = 0; g < scores[l].length; g++) {
        scores[l][g] /= perGroup;
      }
    }
  }
}
