package dev.pruneserve.pruning.calibration;

import dev.pruneserve.llm.KvDecoder;
import dev.pruneserve.onnx.proto.Onnx.ModelProto;
import dev.pruneserve.session.ModelSession;
import dev.pruneserve.session.SessionLoader;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Runs calibration sequences through a copy of a decoder with {@link ActivationTaps} and
 * accumulates Σ x and Σ x² per channel of each tapped value over every calibration token: each
 * sequence's sums come from ONNX Runtime in float32, the sum over sequences is float64. Each sequence runs as its own batch (no padding), so the statistics cover exactly the valid
 * tokens. Only per-channel vectors leave ONNX Runtime. The temporary model file is deleted.
 */
public final class Calibration {
  /** Per-channel sums for each tapped value (same order as requested) over {@code tokens} tokens. */
  public record Stats(double[][] sum, double[][] sumSquares, long tokens, int sequences) {
    /** Mean x̄_j of value {@code k}. */
    public double[] mean(int k) {
      double[] m = new double[sum[k].length];
      for (int j = 0; j < m.length; j++) {
        m[j] = sum[k][j] / tokens;
      }
      return m;
    }

    /** Unbiased variance (1/(N−1)) Σ (x − x̄)² of value {@code k}. */
    public double[] variance(int k) {
      double[] v = new double[sum[k].length];
      for (int j = 0; j < v.length; j++) {
        v[j] = Math.max(0, (sumSquares[k][j] - sum[k][j] * sum[k][j] / tokens) / (tokens - 1));
      }
      return v;
    }
  }

  private Calibration() {}

  public static Stats run(ModelProto model, List<String> values, List<int[]> calibration, SessionLoader loader,
      Path file) throws IOException {
    return run(model, values, calibration, loader, file, (p, f) -> {});
  }

  /** As above, reporting {@code (done + k/n) / total} of phase "calibrating" after each sequence k. */
  public static Stats run(ModelProto model, List<String> values, List<int[]> calibration, SessionLoader loader,
      Path file, java.util.function.BiConsumer<Integer, Integer> perSequence) throws IOException {
    if (calibration.isEmpty()) {
      throw new IllegalArgumentException("calibration needs at least one sequence");
    }
    dev.pruneserve.repository.ModelFileWriter.write(ActivationTaps.add(model, values), file, false);
    double[][] sum = new double[values.size()][];
    double[][] sumsq = new double[values.size()][];
    long tokens = 0;
    int done = 0;
    try (ModelSession s = loader.load("calibration/1", file)) {
      Set<String> outs = new LinkedHashSet<>();
      for (String v : values) {
        outs.add(ActivationTaps.sum(v));
        outs.add(ActivationTaps.sumSquares(v));
      }
      for (int[] seq : calibration) {
        var out = s.run(KvDecoder.prefillInputs(s, seq), outs);
        for (int k = 0; k < values.size(); k++) {
          sum[k] = accumulate(sum[k], out.get(ActivationTaps.sum(values.get(k))).toFloatArray());
          sumsq[k] = accumulate(sumsq[k], out.get(ActivationTaps.sumSquares(values.get(k))).toFloatArray());
        }
        tokens += seq.length;
        perSequence.accept(++done, calibration.size());
      }
    } finally {
      dev.pruneserve.repository.ModelFileWriter.delete(file);
    }
    if (tokens < 2) {
      throw new IllegalArgumentException("calibration needs at least 2 tokens, got " + tokens);
    }
    return new Stats(sum, sumsq, tokens, calibration.size());
  }

  private static double[] accumulate(double[] acc, float[] v) {
    double[] a = acc == null ? new double[v.length] : acc;
    for (int j = 0; j < v.length; j++) {
      a[j] += v[j];
    }
    return a;
  }
}
