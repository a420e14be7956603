package dev.pruneserve.pruning.recovery;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * How a pruned model is reconstructed (issue 22): which re-fit, over which projections, with which
 * ridge λ and how much calibration. Immutable.
 *
 * @param mode SEQUENTIAL: block by block in graph order, inputs from the pruned model as
 *     reconstructed so far, targets from the dense model; ONE_SHOT: every projection from the
 *     dense model's inputs (transformers only)
 * @param projections transformers: attention (o_proj), MLP (down_proj / fc2) or both; CNNs take
 *     every consumer of a pruned channel group whatever this says
 * @param lambda ridge λ relative to the mean diagonal of the inputs' Gram matrix
 * @param samples calibration sequences (transformers) or images (CNNs) used, 0 = the default
 *     ({@link #samplesFor})
 */
public record ReconstructSettings(Mode mode, Projections projections, double lambda, int samples) {
  /** Default relative λ (best of 1e-4…1e-1 for FLAP p = 0.5 on stories15M, docs/benchmarks.md). */
  public static final double LAMBDA = 1e-2;
  /** Default image count of a CNN reconstruction (a transformer uses every calibration sequence). */
  public static final int CNN_IMAGES = 512;

  public enum Mode {
    SEQUENTIAL, ONE_SHOT
  }

  public enum Projections {
    BOTH, ATTENTION, MLP;

    public boolean attention() {
      return this != MLP;
    }

    public boolean mlp() {
      return this != ATTENTION;
    }
  }

  public ReconstructSettings {
    if (!(lambda >= 0) || samples < 0) {
      throw new IllegalArgumentException("reconstruction needs λ ≥ 0 and samples ≥ 0");
    }
  }

  /** The samples used out of {@code available} ({@code cnn}: images, else sequences). */
  public int samplesFor(int available, boolean cnn) {
    int want = samples > 0 ? samples : cnn ? CNN_IMAGES : available;
    return Math.min(want, available);
  }

  /**
   * The hashed form. A one-shot reconstruction over both projections with every sample hashes as
   * it did before the other options existed, so its variant ids stay.
   */
  public Map<String, Object> identity() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("mode", lower(mode));
    m.put("lambda", lambda);
    if (projections != Projections.BOTH) {
      m.put("projections", lower(projections));
    }
    if (samples > 0) {
      m.put("samples", samples);
    }
    return m;
  }

  static String lower(Enum<?> e) {
    return e.name().toLowerCase(Locale.ROOT).replace('_', '-');
  }
}
