package dev.pruneserve.embed;

import dev.pruneserve.error.ServingException;
import dev.pruneserve.tokenizer.HfTokenizer;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Pooling of a hidden state [batch, seq, dim] into one vector per row, over each row's attention
 * mask (rows are right-padded): {@link Mode#MEAN} (sentence-transformers' default, e.g. MiniLM,
 * e5), {@link Mode#CLS} (the first token, e.g. bge), {@link Mode#LAST} (the last real token,
 * decoder-style embedders). Optionally L2-normalised. Stateless.
 */
public final class Pooling {
  public enum Mode {
    MEAN, CLS, LAST;

    /** {@code mean}, {@code cls} or {@code last}; null or empty → {@code fallback}; else INVALID_ARGUMENT naming {@code field}. */
    public static Mode parse(String v, Mode fallback, String field) {
      if (v == null || v.isEmpty()) {
        return fallback;
      }
      try {
        return valueOf(v.toUpperCase(Locale.ROOT));
      } catch (IllegalArgumentException e) {
        throw ServingException.invalid(field + " '" + v + "' is not one of mean, cls, last");
      }
    }
  }

  private Pooling() {}

  public static List<float[]> meanPool(float[] hidden, List<HfTokenizer.Encoded> enc, int seq, int dim, boolean l2) {
    return pool(Mode.MEAN, hidden, enc, seq, dim, l2);
  }

  public static List<float[]> pool(Mode mode, float[] hidden, List<HfTokenizer.Encoded> enc, int seq, int dim,
      boolean l2) {
    List<float[]> out = new ArrayList<>(enc.size());
    for (int b = 0; b < enc.size(); b++) {
      long[] mask = enc.get(b).mask();
      double[] sum = new double[dim];
      int count = 0;
      int last = 0;
      for (int t = 0; t < mask.length; t++) {
        if (mask[t] != 0) {
          last = t;
          if (mode == Mode.MEAN || (mode == Mode.CLS && count == 0)) {
            add(sum, hidden, (b * seq + t) * dim);
          }
          count++;
        }
      }
      if (mode == Mode.LAST) {
        add(sum, hidden, (b * seq + last) * dim);
      }
      double norm = 0;
      for (int d = 0; d < dim; d++) {
        sum[d] /= mode == Mode.MEAN ? Math.max(1, count) : 1;
        norm += sum[d] * sum[d];
      }
      double scale = l2 && norm > 0 ? 1 / Math.sqrt(norm) : 1;
      float[] v = new float[dim];
      for (int d = 0; d < dim; d++) {
        v[d] = (float) (sum[d] * scale);
      }
      out.add(v);
    }
    return out;
  }

  private static void add(double[] sum, float[] hidden, int base) {
    for (int d = 0; d < sum.length; d++) {
      sum[d] += hidden[base + d];
    }
  }
}
