package dev.pruneserve.eval;

import dev.pruneserve.llm.KvDecoder;
import dev.pruneserve.session.ModelSession;

/**
 * Causal-LM quality on a token stream, per algorithms.md §1.4 / quality-reference.md: the stream is
 * cut into non-overlapping windows (the remainder is dropped, no BOS is added per window), and every
 * window's positions 0..w−2 predict tokens 1..w−1. Optionally against a dense reference model:
 * KL(dense‖model) and top-1 agreement over the same positions. Accumulates in float64.
 */
public final class LmQuality {
  /**
   * @param perplexity exp(mean NLL)
   * @param kl mean KL(dense‖model) in nats (NaN without a reference)
   * @param top1 fraction of positions where the argmaxes agree (NaN without a reference)
   */
  public record Result(double perplexity, double kl, double top1, int windows, long predicted) {}

  private LmQuality() {}

  public static Result evaluate(ModelSession model, ModelSession dense, int[] stream, int window) {
    return evaluate(model, dense, stream, window, w -> {});
  }

  /**
   * As above; {@code beforeWindow} is told the fraction done before each window and may throw
   * (e.g. CancellationException) to stop the evaluation there.
   */
  public static Result evaluate(ModelSession model, ModelSession dense, int[] stream, int window,
      java.util.function.DoubleConsumer beforeWindow) {
    int windows = stream.length / window;
    double nll = 0;
    double kl = 0;
    long agree = 0;
    long n = 0;
    for (int w = 0; w < windows; w++) {
      beforeWindow.accept((double) w / windows);
      int[] ids = java.util.Arrays.copyOfRange(stream, w * window, (w + 1) * window);
      float[] logits = run(model, ids);
      float[] ref = dense == null ? null : run(dense, ids);
      int vocab = logits.length / window;
      for (int t = 0; t + 1 < window; t++) {
        double[] logp = logSoftmax(logits, t * vocab, vocab);
        nll -= logp[ids[t + 1]];
        if (ref != null) {
          double[] logq = logSoftmax(ref, t * vocab, vocab);
          double k = 0;
          for (int v = 0; v < vocab; v++) {
            k += Math.exp(logq[v]) * (logq[v] - logp[v]);
          }
          kl += k;
          agree += argmax(logp) == argmax(logq) ? 1 : 0;
        }
        n++;
      }
    }
    return new Result(Math.exp(nll / n), dense == null ? Double.NaN : kl / n,
        dense == null ? Double.NaN : (double) agree / n, windows, n);
  }

  private static float[] run(ModelSession s, int[] ids) {
    try (KvDecoder d = new KvDecoder(s)) {
      return d.step(ids);
    }
  }

  static double[] logSoftmax(float[] x, int off, int n) {
    double max = Double.NEGATIVE_INFINITY;
    for (int i = 0; i < n; i++) {
      max = Math.max(max, x[off + i]);
    }
    double sum = 0;
    for (int i = 0; i < n; i++) {
      sum += Math.exp(x[off + i] - max);
    }
    double lse = max + Math.log(sum);
    double[] out = new double[n];
    for (int i = 0; i < n; i++) {
      out[i] = x[off + i] - lse;
    }
    return out;
  }

  private static int argmax(double[] v) {
    int best = 0;
    for (int i = 1; i < v.length; i++) {
      if (v[i] > v[best]) {
        best = i;
      }
    }
    return best;
  }
}
