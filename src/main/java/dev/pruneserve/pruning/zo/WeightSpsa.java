package dev.pruneserve.pruning.zo;

import dev.pruneserve.tensor.DataType;
import dev.pruneserve.tensor.Tensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * MeZO-style SPSA over weights (algorithms.md §2.2, Eq. 7): for query i, c_i = [L(W + εz_i) −
 * L(W − εz_i)] / 2ε on the whole calibration set, with z_i regenerated from {@link CounterRng} and
 * never stored. The pristine weights are never modified: one perturbed copy per tensor (direct
 * buffers, fed to ONNX Runtime in place) is rewritten from the pristine values for each
 * evaluation, so restoration is exact by construction. Single-threaded; owns its buffers.
 */
final class WeightSpsa implements Perturbation {
  private final List<ScoredTensor> tensors;
  private final List<float[]> pristine;
  private final Map<String, ByteBuffer> perturbed = new LinkedHashMap<>();

  WeightSpsa(List<ScoredTensor> tensors, List<float[]> pristine) {
    this.tensors = tensors;
    this.pristine = pristine;
    for (ScoredTensor t : tensors) {
      perturbed.put(t.name(), ByteBuffer.allocateDirect(Math.multiplyExact(Math.multiplyExact(t.in(), t.out()), 4))
          .order(ByteOrder.nativeOrder()));
    }
  }

  /** Feeds holding W + sign·ε·z_query (sign 0 = the pristine weights). */
  @Override
  public Map<String, Tensor> feeds(CounterRng rng, int query, double sign, double epsilon) {
    Map<String, Tensor> out = new LinkedHashMap<>();
    for (int i = 0; i < tensors.size(); i++) {
      ScoredTensor t = tensors.get(i);
      float[] w = pristine.get(i);
      FloatBuffer f = perturbed.get(t.name()).asFloatBuffer();
      if (sign == 0) {
        f.put(w);
      } else {
        long stream = rng.stream(query, t.id());
        double step = sign * epsilon;
        for (int k = 0; k < w.length; k++) {
          f.put(k, (float) (w[k] + step * rng.z(stream, k)));
        }
      }
      out.put(t.name(), Tensor.fixed(t.name(), DataType.FP32, new long[] {t.in(), t.out()},
          perturbed.get(t.name()).duplicate()));
    }
    return out;
  }
}
