package dev.pruneserve.pruning.criteria;

import dev.pruneserve.graph.OnnxGraph;
import dev.pruneserve.graph.Slicing;
import dev.pruneserve.pruning.transformer.FfnGroup;
import dev.pruneserve.pruning.transformer.GatedMlpDiscovery;
import dev.pruneserve.pruning.transformer.HeadGroup;
import dev.pruneserve.pruning.transformer.MlpGroup;
import java.util.SplittableRandom;

/**
 * Weight-only group scores (algorithms.md §7); the lowest-scored groups are removed. Stateless.
 *
 * <ul>
 *   <li>{@code RANDOM}: U(0,1) per channel from the seed; a head scores the sum of its channels.
 *   <li>{@code MAGNITUDE_SP} (FLAP repository's Mag-SP): channel j scores the L2 norm of input
 *       column j of down_proj (heads: of o_proj), with the square root; a head sums its channels.
 *   <li>{@code MAGNITUDE_L1} / {@code MAGNITUDE_L2} (LLM-Pruner style): per member slice Σ|w|^P
 *       without a root, members (gate col, up col, down row — or q/k/v cols, o row) reduced by mean;
 *       a head sums its channels.
 * </ul>
 */
public enum Criterion {
  RANDOM,
  MAGNITUDE_SP,
  MAGNITUDE_L1,
  MAGNITUDE_L2;

  /** Scores of the channels of {@code g}, length {@code g.width()}. */
  public double[] mlp(OnnxGraph graph, MlpGroup g, long seed) {
    return switch (this) {
      case RANDOM -> random(seed, g.index(), 0, g.width());
      case MAGNITUDE_SP -> rowPower(graph, g.downWeight(), 2, true);
      case MAGNITUDE_L1, MAGNITUDE_L2 -> mean(colPower(graph, g.gateWeight(), power(), false),
          colPower(graph, g.upWeight(), power(), false), rowPower(graph, g.downWeight(), power(), false));
    };
  }

  /**
   * Scores of the channels of a plain FFN, length {@code g.width()}: Mag-SP on fc2's input rows;
   * L1/L2 as the mean of the fc1 column and fc2 row slices (biases are not scored).
   */
  public double[] ffn(OnnxGraph graph, FfnGroup g, long seed) {
    return switch (this) {
      case RANDOM -> random(seed, g.index(), 0, g.width());
      case MAGNITUDE_SP -> rowPower(graph, g.weight2(), 2, true);
      case MAGNITUDE_L1, MAGNITUDE_L2 -> mean(colPower(graph, g.weight1(), power(), false),
          rowPower(graph, g.weight2(), power(), false));
    };
  }

  /**
   * Scores of the units of {@code g} (heads; with GQA, K/V heads with their query heads), length
   * {@code g.units()}. L1/L2 with GQA: the mean over q, k, v, o of each part's sum over the unit.
   */
  public double[] heads(OnnxGraph graph, HeadGroup g, long seed) {
    if (g.grouped() && (this == MAGNITUDE_L1 || this == MAGNITUDE_L2)) {
      return mean(perUnit(colPower(graph, g.qWeight(), power(), false), g.unitWidth()),
          perUnit(colPower(graph, g.kWeight(), power(), false), g.headDim()),
          perUnit(colPower(graph, g.vWeight(), power(), false), g.headDim()),
          perUnit(rowPower(graph, g.oWeight(), power(), false), g.unitWidth()));
    }
    double[] channel = switch (this) {
      case RANDOM -> random(seed, g.index(), 1, g.units() * g.unitWidth());
      case MAGNITUDE_SP -> rowPower(graph, g.oWeight(), 2, true);
      case MAGNITUDE_L1, MAGNITUDE_L2 -> mean(colPower(graph, g.qWeight(), power(), false),
          colPower(graph, g.kWeight(), power(), false), colPower(graph, g.vWeight(), power(), false),
          rowPower(graph, g.oWeight(), power(), false));
    };
    return perUnit(channel, g.unitWidth());
  }

  private static double[] perUnit(double[] channel, int width) {
    double[] units = new double[channel.length / width];
    for (int c = 0; c < channel.length; c++) {
      units[c / width] += channel[c];
    }
    return units;
  }

  /** Heads to remove from a block of {@code heads} × {@code headDim} at ratio {@code p} (§1.3). */
  public int headsToRemove(double p, int heads, int headDim) {
    if (this == MAGNITUDE_SP) {
      return (int) (p * heads); // FLAP repository: int(p·H)
    }
    int d = heads * headDim; // LLM-Pruner / torch-pruning: (d − int(d·(1−p))) div hd
    return (d - (int) (d * (1 - p))) / headDim;
  }

  /** MLP channels to remove from {@code width} at ratio {@code p} (§1.3). */
  public int channelsToRemove(double p, int width) {
    return this == MAGNITUDE_SP ? (int) (p * width) : width - (int) (width * (1 - p));
  }

  private int power() {
    return this == MAGNITUDE_L1 ? 1 : 2;
  }

  /** Independent, reproducible stream per (seed, layer, kind). */
  private static double[] random(long seed, int layer, int kind, int n) {
    SplittableRandom r = new SplittableRandom(seed ^ (0x9E3779B97F4A7C15L * (2L * layer + kind + 1)));
    double[] s = new double[n];
    for (int i = 0; i < n; i++) {
      s[i] = r.nextDouble();
    }
    return s;
  }

  private static double[] mean(double[]... parts) {
    double[] out = new double[parts[0].length];
    for (double[] p : parts) {
      for (int i = 0; i < out.length; i++) {
        out[i] += p[i] / parts.length;
      }
    }
    return out;
  }

  /** Per row of a MatMul weight [in, out] (= per input channel): Σ|w|^p, optionally rooted. */
  static double[] rowPower(OnnxGraph graph, String name, int p, boolean root) {
    return rooted(Slicing.power(GatedMlpDiscovery.require(graph, name), 0, p), p, root);
  }

  /** Per column of a MatMul weight [in, out] (= per output channel): Σ|w|^p, optionally rooted. */
  private static double[] colPower(OnnxGraph graph, String name, int p, boolean root) {
    return rooted(Slicing.power(GatedMlpDiscovery.require(graph, name), 1, p), p, root);
  }

  private static double[] rooted(double[] s, int p, boolean root) {
    if (root) {
      for (int i = 0; i < s.length; i++) {
        s[i] = Math.pow(s[i], 1.0 / p);
      }
    }
    return s;
  }
}
