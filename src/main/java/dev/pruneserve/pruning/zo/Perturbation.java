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
  /**
   * Feeds at dense + sign·ε·z_query; sign 0 = the dense point. The returned tensors may share
   * buffers with the next call's (one perturbed copy): use them before calling again.
   */
  Map<String, Tensor> feeds(CounterRng rng, int query, double sign, double epsilon);

  /**
   * Projected gradients c_i = [L(+εz_i) − L(−εz_i)] / 2ε for i = 0..q−1, both evaluations on the
   * same calibration set; reports phase "querying" after each micro-batch (so a cancellation stops
   * the run within one micro-batch).
   */
  default double[] queries(LossProbe probe, CounterRng rng, int q, double epsilon, Progress progress) {
    double[] c = new double[q];
    double total = 2.0 * q * probe.batchCount();
    int[] done = {0};
    Runnable tick = () -> progress.report("querying", ++done[0] / total);
    for (int i = 0; i < q; i++) {
      double plus = probe.meanLoss(feeds(rng, i, 1, epsilon), tick);
      double minus = probe.meanLoss(feeds(rng, i, -1, epsilon), tick);
      c[i] = (plus - minus) / (2 * epsilon);
    }
    return c;
  }
}
