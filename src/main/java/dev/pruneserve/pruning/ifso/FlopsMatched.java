package dev.pruneserve.pruning.ifso;

import dev.pruneserve.onnx.proto.Onnx.ModelProto;
import dev.pruneserve.pruning.cnn.ChannelPruner;

/**
 * Weight-only CNN baselines (L1/L2 filter norms, random) at a FLOPs target instead of a channel
 * ratio: the smallest uniform per-group ratio whose pruned model keeps at most {@code target} of
 * the dense FLOPs, found by bisection (ratios are applied with torch-pruning's rounding, so the
 * result lands just under the target). Stateless.
 */
public final class FlopsMatched {
  private FlopsMatched() {}

  /** The pruned model and the per-group ratio that produced it. */
  public record Result(ChannelPruner.Result pruned, double ratio, double flopsBefore, double flopsAfter) {}

  public static Result prune(ModelProto dense, ChannelPruner.Score score, double target, long seed) {
    if (!(target > 0 && target < 1)) {
      throw new IllegalArgumentException("target FLOPs must be in (0, 1), got " + target);
    }
    double full = CnnCost.macs(dense);
    double lo = 0;
    double hi = 0.999;
    ChannelPruner.Result best = ChannelPruner.prune(dense, score, hi, seed);
    if (CnnCost.macs(best.model()) > target * full) {
      throw new IllegalArgumentException("even one channel per group keeps more than " + target + " of the FLOPs");
    }
    double bestRatio = hi;
    for (int i = 0; i < 30; i++) {
      double mid = (lo + hi) / 2;
      ChannelPruner.Result r = ChannelPruner.prune(dense, score, mid, seed);
      if (CnnCost.macs(r.model()) <= target * full) {
        hi = mid;
        best = r;
        bestRatio = mid;
      } else {
        lo = mid;
      }
    }
    return new Result(best, bestRatio, full, CnnCost.macs(best.model()));
  }
}
