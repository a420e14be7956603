package dev.pruneserve.pruning.zo;

import dev.pruneserve.pruning.Progress;
import dev.pruneserve.tensor.Tensor;
import java.util.Map;

/**
 * The inputs of a {@link LossProbe} at the dense point moved along direction z_query (Eq. 7 of
 * MINI-LLM, SPSA): the weights themselves ({@link WeightSpsa}) or per-group gates ({@link
 * MaskSpsa}).
 */
interface Perturbation {
  /** Feeds at dense + sign·ε·z_query; sign 0 = the dense point. */
  Map<String, Tensor> feeds(CounterRng rng, int query, double sign, double epsilon);

  /**
   * Projected gradients c_i = [L(+εz_i) − L(−εz_i)] / 2ε for i = 0..q−1, both evaluations on the
   * same calibration set; reports phase "querying" after each query.
   */
  default double[] queries(LossProbe probe, CounterRng rng, int q, double epsilon, Progress progress) {
    double[] c = new double[q];
    for (int i = 0; i < q; i++) {
      double plus = probe.meanLoss(feeds(rng, i, 1, epsilon));
      double minus = probe.meanLoss(feeds(rng, i, -1, epsilon));
      c[i] = (plus - minus) / (2 * epsilon);
      progress.report("querying", (i + 1.0) / q);
    }
    return c;
  }
}
