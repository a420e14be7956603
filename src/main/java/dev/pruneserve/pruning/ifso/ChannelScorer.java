package dev.pruneserve.pruning.ifso;

import dev.pruneserve.tensor.Tensor;
import dev.pruneserve.train.TrainingGraph;
import dev.pruneserve.train.TrainingSession;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Per-batch channel scores of a {@link TrainingSession}'s model at its current parameters and
 * masks, one {@code double[]} per channel group (see {@link ChannelMasks}). Not thread-safe.
 */
interface ChannelScorer {
  double[][] score(TrainingSession s, Map<String, Tensor> batch) throws IOException;

  /**
   * IFSO (algorithms.md §3.3, exact): u = [∇_w ℓ(m + R₁·1) − ∇_w ℓ(m − R₁·1)] / 2R₁ over all
   * Conv/Gemm weights, R₁ = r/‖1‖; v = u/λ; t = [∇_m ℓ(w + R₂v) − ∇_m ℓ(w − R₂v)] / 2R₂,
   * R₂ = r/‖v‖; channel score = Σ of |t| over the channel's entries in its modules' masks.
   */
  static ChannelScorer ifso(ChannelMasks where, double r, double lambda) {
    return (s, batch) -> {
      List<float[]> t = new ArrayList<>();
      for (float[] signed : hvp(s, batch, r, lambda).t()) {
        float[] abs = new float[signed.length];
        for (int k = 0; k < abs.length; k++) {
          abs[k] = Math.abs(signed[k]);
        }
        t.add(abs);
      }
      return perChannel(where, t, false);
    };
  }

  /** t = M·1 per mask entry (signed, mask order) and ‖v‖² of one IFSO evaluation. */
  record Hvp(List<float[]> t, double vNormSquared) {}

  static Hvp hvp(TrainingSession s, Map<String, Tensor> batch, double r, double lambda) throws IOException {
    List<TrainingGraph.Mask> masks = s.graph().masks();
    long entries = masks.stream().mapToLong(TrainingGraph.Mask::width).sum();
    double r1 = r / Math.sqrt(entries);
    Map<String, float[]> gPlus = s.paramGradients(batch, shifted(s.masks(), r1));
    Map<String, float[]> gMinus = s.paramGradients(batch, shifted(s.masks(), -r1));
    Map<String, float[]> v = new HashMap<>();
    double norm = 0;
    for (String w : weights(s)) {
      float[] a = gPlus.get(w);
      float[] b = gMinus.get(w);
      float[] vw = new float[a.length];
      for (int k = 0; k < a.length; k++) {
        vw[k] = (float) ((a[k] - b[k]) / (2 * r1) / lambda);
        norm += (double) vw[k] * vw[k];
      }
      v.put(w, vw);
    }
    double r2 = r / Math.max(Math.sqrt(norm), 1e-30);
    Map<String, float[]> tPlus = s.maskGradients(batch, moved(s.params(), v, r2));
    Map<String, float[]> tMinus = s.maskGradients(batch, moved(s.params(), v, -r2));
    List<float[]> t = new ArrayList<>();
    for (TrainingGraph.Mask m : masks) {
      float[] a = tPlus.get(m.name());
      float[] b = tMinus.get(m.name());
      float[] d = new float[a.length];
      for (int k = 0; k < a.length; k++) {
        d[k] = (float) ((a[k] - b[k]) / (2 * r2));
      }
      t.add(d);
    }
    return new Hvp(t, norm);
  }

  /**
   * First-order Taylor on masks (Molchanov et al. 2019, the gate form): channel score =
   * (Σ over the channel's mask entries of ∂ℓ/∂m)² for the batch, at the current masks.
   */
  static ChannelScorer taylor(ChannelMasks where) {
    return (s, batch) -> {
      Map<String, float[]> g = s.maskGradients(batch, s.params());
      List<float[]> per = new ArrayList<>();
      s.graph().masks().forEach(m -> per.add(g.get(m.name())));
      return perChannel(where, per, true);
    };
  }

  private static double[][] perChannel(ChannelMasks where, List<float[]> perEntry, boolean square) {
    double[][] out = new double[where.groups().size()][];
    for (int g = 0; g < out.length; g++) {
      out[g] = new double[where.groups().get(g).channels()];
      for (int c = 0; c < out[g].length; c++) {
        double v = where.sum(perEntry, g, c);
        out[g][c] = square ? v * v : v;
      }
    }
    return out;
  }

  /** The Conv/Gemm weights (input 1 of each masked module): IFSO's w; BN and biases excluded. */
  private static List<String> weights(TrainingSession s) {
    return s.graph().masks().stream().map(TrainingGraph.Mask::weight).distinct().toList();
  }

  private static Map<String, float[]> shifted(Map<String, float[]> masks, double by) {
    Map<String, float[]> out = new HashMap<>();
    masks.forEach((k, m) -> {
      float[] c = m.clone();
      for (int i = 0; i < c.length; i++) {
        c[i] += (float) by;
      }
      out.put(k, c);
    });
    return out;
  }

  private static Map<String, float[]> moved(Map<String, float[]> params, Map<String, float[]> v, double step) {
    Map<String, float[]> out = new HashMap<>(params);
    v.forEach((k, d) -> {
      float[] w = params.get(k).clone();
      for (int i = 0; i < w.length; i++) {
        w[i] += (float) (step * d[i]);
      }
      out.put(k, w);
    });
    return out;
  }
}
