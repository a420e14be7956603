package dev.pruneserve.pruning.ifso;

import dev.pruneserve.onnx.proto.Onnx.ModelProto;
import dev.pruneserve.pruning.Progress;
import dev.pruneserve.pruning.cnn.ChannelDiscovery;
import dev.pruneserve.pruning.cnn.ChannelGroup;
import dev.pruneserve.pruning.cnn.ChannelSurgery;
import dev.pruneserve.pruning.criteria.Criterion;
import dev.pruneserve.session.SessionLoader;
import dev.pruneserve.train.ImageSet;
import dev.pruneserve.train.TrainingSession;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Global greedy channel pruning of a CNN to a FLOPs target with gradient criteria, on generated
 * backward graphs (algorithms.md §3.5): one channel (of one group) per decision, the global
 * argmin of {@code accumulated score / (√max(Δacts, 1) / 1e6)} among alive channels of groups that
 * keep ≥ 2 channels and have non-zero scores, until the remaining FLOPs ≤ the target; then masked
 * channels are removed physically ({@link ChannelSurgery}). The network input's channels are never
 * a group (IFSO's protected first conv).
 *
 * <p>{@link Mode#TRAIN} is IFSO as its authors run it: every iteration scores {@code
 * scoringBatches} fresh batches, then takes one SGD step (momentum 0.9, weight decay λ, masks
 * applied); every {@code interval} iterations one channel goes. {@link Mode#ONE_SHOT} is the
 * deviation of §3.8 option 4 for an inference-only server: weights fixed; every {@code
 * rescoreEvery} removals the scores are recomputed on {@code interval × scoringBatches} fresh
 * batches. Not thread-safe; the input model is not changed.
 */
public final class Ifso {
  public enum Mode {
    TRAIN, ONE_SHOT
  }

  public enum Criterion {
    IFSO, TAYLOR
  }

  /**
   * @param targetFlops remaining FLOPs as a fraction of the dense model's, in (0, 1)
   * @param r finite-difference scale of §3.3 (R₁ = r/‖1‖, R₂ = r/‖v‖)
   * @param lambda the weight decay λ (inverse Hessian (1/λ)·I; also the SGD weight decay)
   * @param lr SGD learning rate during {@link Mode#TRAIN}
   */
  public record Options(Criterion criterion, Mode mode, double targetFlops, int batch, int scoringBatches,
      int interval, int rescoreEvery, double r, double lambda, double lr, long seed) {
    public Options {
      if (!(targetFlops > 0 && targetFlops < 1) || batch < 2 || scoringBatches < 1 || interval < 1
          || rescoreEvery < 1 || !(r > 0) || !(lambda > 0) || !(lr >= 0)) {
        throw new IllegalArgumentException("IFSO options: target FLOPs in (0, 1), batch >= 2, scoring batches,"
            + " interval and rescore-every >= 1, r > 0, lambda > 0, lr >= 0; got " + this);
      }
    }

    /** The reference settings (§3.7) for a criterion, mode and target. */
    public static Options reference(Criterion c, Mode m, double targetFlops, long seed) {
      return new Options(c, m, targetFlops, 128, 2, 10, 10, 1e-2, 1e-4, 0.1, seed);
    }
  }

  /** The pruned model, widths per group, FLOPs (MACs per image) and what it took. */
  public record Outcome(ModelProto model, List<Integer> widths, double flopsBefore, double flopsAfter, int removals,
      int scoredBatches, double scoringSeconds, double trainingSeconds) {}

  private Ifso() {}

  /** Multiply-accumulates per image of a CNN's Conv and Gemm nodes (static H and W needed). */
  public static double macs(ModelProto model) {
    return CnnCost.macs(model);
  }

  public static Outcome prune(ModelProto dense, ImageSet data, Options o, SessionLoader loader, Path work,
      Progress progress) throws IOException {
    List<ChannelGroup> groups = ChannelDiscovery.discover(dense).groups();
    if (groups.isEmpty()) {
      throw new IllegalArgumentException("no prunable channel group found in the CNN");
    }
    try (TrainingSession s = TrainingSession.open(dense, o.batch(), loader, work)) {
      ChannelMasks where = new ChannelMasks(dense, groups, s.graph().masks());
      CnnCost cost = new CnnCost(dense, where, s.graph().masks(), o.batch());
      ChannelScorer scorer = o.criterion() == Criterion.IFSO ? ChannelScorer.ifso(where, o.r(), o.lambda())
          : ChannelScorer.taylor(where);
      BitSet[] removed = new BitSet[groups.size()];
      double[][] accum = new double[groups.size()][];
      for (int g = 0; g < removed.length; g++) {
        removed[g] = new BitSet();
        accum[g] = new double[groups.get(g).channels()];
      }
      SplittableRandom draws = new SplittableRandom(o.seed());
      TrainingSession.Sgd sgd = new TrainingSession.Sgd(0.9, o.lambda());
      double startGap = 1 - o.targetFlops();
      int removals = 0;
      int scored = 0;
      long scoringNanos = 0;
      long trainingNanos = 0;
      for (int it = 1; cost.remaining() > o.targetFlops(); it++) {
        boolean decide;
        int batches;
        if (o.mode() == Mode.TRAIN) {
          batches = o.scoringBatches();
          decide = it % o.interval() == 0;
        } else {
          batches = removals % o.rescoreEvery() == 0 ? o.scoringBatches() * o.interval() : 0;
          decide = true;
          if (batches > 0) {
            clear(accum);
          }
        }
        long t0 = System.nanoTime();
        for (int b = 0; b < batches; b++) {
          double[][] sc = scorer.score(s, s.batchFeeds(data, draw(data, o.batch(), draws), 0));
          for (int g = 0; g < accum.length; g++) {
            for (int c = 0; c < accum[g].length; c++) {
              accum[g][c] += sc[g][c] / o.scoringBatches();
            }
          }
          scored++;
          progress.report("scoring", Math.min(1, (1 - cost.remaining()) / startGap));
        }
        long t1 = System.nanoTime();
        scoringNanos += t1 - t0;
        if (o.mode() == Mode.TRAIN) {
          s.step(data, draw(data, o.batch(), draws), 0, o.lr(), sgd);
          trainingNanos += System.nanoTime() - t1;
        }
        if (decide) {
          int[] pick = argmin(accum, removed, cost);
          removed[pick[0]].set(pick[1]);
          where.set(s.masks(), s.graph().masks(), pick[0], pick[1], 0f);
          cost.remove(pick[0], pick[1]);
          removals++;
          if (o.mode() == Mode.TRAIN) {
            clear(accum);
          }
          progress.report("scoring", Math.min(1, (1 - cost.remaining()) / startGap));
        }
      }
      Map<ChannelGroup, BitSet> drop = new LinkedHashMap<>();
      List<Integer> widths = new ArrayList<>();
      for (int g = 0; g < groups.size(); g++) {
        if (!removed[g].isEmpty()) {
          drop.put(groups.get(g), removed[g]);
        }
        widths.add(groups.get(g).channels() - removed[g].cardinality());
      }
      ModelProto pruned = ChannelSurgery.remove(s.export(), drop).model();
      return new Outcome(pruned, widths, cost.denseFlops(), cost.flops(), removals, scored, scoringNanos / 1e9,
          trainingNanos / 1e9);
    }
  }

  /** A fresh batch: {@code batch} distinct random images. */
  private static int[] draw(ImageSet data, int batch, SplittableRandom r) {
    if (data.size() < batch) {
      throw new IllegalArgumentException("IFSO needs at least one batch of " + batch + " images, got " + data.size());
    }
    int[] pick = new int[batch];
    BitSet used = new BitSet();
    for (int i = 0; i < batch;) {
      int k = r.nextInt(data.size());
      if (!used.get(k)) {
        used.set(k);
        pick[i++] = k;
      }
    }
    return pick;
  }

  /**
   * {group, channel} of the smallest normalised score, as the reference's
   * {@code find_pruning_channel}: groups that keep ≥ 2 channels and whose alive channels' scores sum
   * to more than 0 are eligible (§3.5); within them the minimum over alive channels, exact zeros
   * included, so a channel that scored 0 (a dead ReLU channel) goes first. Ties: the first found.
   */
  static int[] argmin(double[][] accum, BitSet[] removed, CnnCost cost) {
    int[] best = null;
    double bestScore = Double.POSITIVE_INFINITY;
    for (int g = 0; g < accum.length; g++) {
      if (cost.alive(g) < 2 || aliveSum(accum[g], removed[g]) <= 0) {
        continue;
      }
      double norm = Math.sqrt(Math.max(cost.acts(g), 1)) / 1e6;
      for (int c = 0; c < accum[g].length; c++) {
        if (!removed[g].get(c) && (best == null || accum[g][c] / norm < bestScore)) {
          best = new int[] {g, c};
          bestScore = accum[g][c] / norm;
        }
      }
    }
    if (best == null) {
      throw new IllegalArgumentException("the FLOPs target cannot be met: every group is down to one channel or"
          + " scored 0 on every channel");
    }
    return best;
  }

  private static double aliveSum(double[] scores, BitSet removed) {
    double sum = 0;
    for (int c = 0; c < scores.length; c++) {
      sum += removed.get(c) ? 0 : scores[c];
    }
    return sum;
  }

  private static void clear(double[][] a) {
    for (double[] x : a) {
      java.util.Arrays.fill(x, 0);
    }
  }
}
