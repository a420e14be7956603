package dev.pruneserve.pruning.search;

import dev.pruneserve.pruning.Progress;
import dev.pruneserve.pruning.transformer.HeadGroup;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.ToDoubleFunction;

/**
 * Greedy exact head ablation: each step tries every open head (removed in turn on top of the heads
 * already removed) and removes the one with the lowest loss. Per layer: layers in order, each until
 * its count; global: the same total, any layer that still keeps two or more heads. Counts every
 * loss evaluation and reports one {@code scoring} event per evaluation. Single-threaded.
 */
final class HeadSearch {
  private final List<HeadGroup> blocks;
  private final int[] toRemove;
  private final ForwardSearch.Budget budget;
  private final Progress progress;
  private final int total;
  private int forwards;

  HeadSearch(List<HeadGroup> blocks, int[] toRemove, ForwardSearch.Budget budget, Progress progress) {
    this.blocks = blocks;
    this.toRemove = toRemove.clone();
    this.budget = budget;
    this.progress = progress;
    int steps = Arrays.stream(toRemove).sum();
    int sum = 0;
    if (budget == ForwardSearch.Budget.GLOBAL) { // an upper estimate: every remaining head of every layer per step
      int all = blocks.stream().mapToInt(HeadGroup::units).sum();
      for (int k = 0; k < steps; k++) {
        sum += all - k;
      }
    } else {
      for (int l = 0; l < blocks.size(); l++) {
        for (int k = 0; k < toRemove[l]; k++) {
          sum += blocks.get(l).units() - k;
        }
      }
    }
    this.total = Math.max(1, sum);
  }

  /** No head removed in any of {@code layers} layers. */
  private static Map<Integer, BitSet> none(int layers) {
    Map<Integer, BitSet> m = new HashMap<>();
    for (int l = 0; l < layers; l++) {
      m.put(l, new BitSet());
    }
    return m;
  }

  private double counted(double loss) {
    forwards++;
    progress.report("scoring", Math.min(1, (double) forwards / total));
    return loss;
  }

  /** Loss evaluations so far. */
  int forwards() {
    return forwards;
  }

  /** Runs the search with {@code loss} of removed heads per layer; returns the removed heads per layer. */
  Map<Integer, BitSet> run(ToDoubleFunction<Map<Integer, BitSet>> loss) {
    Map<Integer, BitSet> heads = none(blocks.size());
    int steps = Arrays.stream(toRemove).sum();
    for (int step = 0, layer = 0; step < steps; step++) {
      while (budget == ForwardSearch.Budget.PER_LAYER && heads.get(layer).cardinality() == toRemove[layer]) {
        layer++;
      }
      int[] best = null;
      double bestLoss = Double.POSITIVE_INFINITY;
      for (int[] c : open(heads, layer)) {
        heads.get(c[0]).set(c[1]);
        double v = counted(loss.applyAsDouble(heads));
        heads.get(c[0]).clear(c[1]);
        if (v < bestLoss) {
          bestLoss = v;
          best = c;
        }
      }
      heads.get(best[0]).set(best[1]);
    }
    return heads;
  }

  /** Candidate (layer, head) pairs of this step. */
  private List<int[]> open(Map<Integer, BitSet> heads, int layer) {
    List<int[]> candidates = new ArrayList<>();
    for (int l = 0; l < blocks.size(); l++) {
      boolean open = budget == ForwardSearch.Budget.GLOBAL ? blocks.get(l).units() - heads.get(l).cardinality() > 1
          : l == layer;
      for (int h = 0; open && h < blocks.get(l).units(); h++) {
        if (!heads.get(l).get(h)) {
          candidates.add(new int[] {l, h});
        }
      }
    }
    return candidates;
  }
}
