package dev.pruneserve.pruning.cnn;

import dev.pruneserve.graph.Slicing;
import dev.pruneserve.onnx.proto.Onnx.ModelProto;
import dev.pruneserve.onnx.proto.Onnx.TensorProto;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Weight-only channel pruning of CNNs with a local ratio: in every prunable {@link ChannelGroup},
 * {@code C − int(C·(1−p))} channels with the lowest scores go (torch-pruning arithmetic), never all.
 * Scores: {@code RANDOM} uniform from the seed; {@code L1}/{@code L2} = torch-pruning's group
 * magnitude — Σ|w|^p of each member slice of rank ≥ 2 (producer filters, consumer input slices,
 * Gemm rows), averaged over members (1-D BN/bias entries not scored). Stateless.
 */
public final class ChannelPruner {
  public enum Score {
    RANDOM, L1, L2
  }

  /** The pruned model, widths per group (discovery order) and parameter counts. */
  public record Result(ModelProto model, List<Integer> widths, ParamCount before, ParamCount after) {}

  private ChannelPruner() {}

  public static Result prune(ModelProto model, Score score, double ratio, long seed) {
    return prune(model, score, ratio, seed, 1);
  }

  /**
   * As above; a group keeps at least {@code minChannels} channels (groups of at most that many are
   * left whole), so small groups are not cut at a coarser granularity than the request.
   */
  public static Result prune(ModelProto model, Score score, double ratio, long seed, int minChannels) {
    ChannelDependencies deps = ChannelDiscovery.discover(model);
    if (deps.groups().isEmpty()) {
      throw new UnsupportedOperationException(noGroups(deps));
    }
    Map<String, TensorProto> init = new HashMap<>();
    model.getGraph().getInitializerList().forEach(t -> init.put(t.getName(), t));
    List<double[]> scores = new ArrayList<>();
    deps.groups().forEach(g -> scores.add(scores(g, init, score, seed)));
    return prune(model, deps, scores, ratio, minChannels);
  }

  /**
   * Removes from every group of {@code deps} its lowest-scored channels ({@code scores} in
   * discovery order), as many as the local ratio says, keeping at least {@code minChannels}.
   */
  public static Result prune(ModelProto model, ChannelDependencies deps, List<double[]> scores, double ratio,
      int minChannels) {
    Map<ChannelGroup, BitSet> drop = new LinkedHashMap<>();
    List<Integer> widths = new ArrayList<>();
    for (int i = 0; i < deps.groups().size(); i++) {
      ChannelGroup g = deps.groups().get(i);
      int n = Math.max(0, Math.min(g.channels() - Math.max(1, minChannels), g.channels() - (int) (g.channels()
          * (1 - ratio))));
      drop.put(g, dev.pruneserve.pruning.criteria.Pruner.lowest(scores.get(i), n));
      widths.add(g.channels() - n);
    }
    ChannelSurgery.Pruned p = ChannelSurgery.remove(model, drop);
    return new Result(p.model(), widths, p.before(), p.after());
  }

  /** The refusal for a CNN without a prunable group: every blocking node, op and reason. */
  public static String noGroups(ChannelDependencies deps) {
    return deps.notPrunable().isEmpty() ? "no convolution channel group was found in this model"
        : "no prunable channel group in this model: every channel set is blocked by "
            + NotPrunable.describe(deps.notPrunable(), 20);
  }

  static double[] scores(ChannelGroup g, Map<String, TensorProto> init, Score score, long seed) {
    double[] s = new double[g.channels()];
    if (score == Score.RANDOM) {
      SplittableRandom r = new SplittableRandom(seed ^ (0x9E3779B97F4A7C15L * (g.id() + 1)));
      Arrays.setAll(s, i -> r.nextDouble());
      return s;
    }
    int members = 0;
    for (ChannelSlice slice : g.slices()) {
      TensorProto t = init.get(slice.initializer());
      if (t == null || t.getDimsCount() < 2) {
        continue;
      }
      double[] per = Slicing.power(t, slice.axis(), score == Score.L1 ? 1 : 2);
      for (int c = 0; c < s.length; c++) {
        for (int k = 0; k < slice.multiplicity(); k++) {
          s[c] += per[(slice.offset() + c) * slice.multiplicity() + k];
        }
      }
      members++;
    }
    for (int c = 0; c < s.length; c++) {
      s[c] /= Math.max(1, members);
    }
    return s;
  }
}
