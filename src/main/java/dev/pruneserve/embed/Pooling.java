package dev.pruneserve.embed;

import dev.pruneserve.tokenizer.HfTokenizer;
import java.util.ArrayList;
import java.util.List;

/** Mean pooling of a hidden state [batch, seq, dim] over each row's attention mask. */
public final class Pooling {
  private Pooling() {}

  public static List<float[]> meanPool(float[] hidden, List<HfTokenizer.Encoded> enc, int seq, int dim, boolean l2) {
    List<float[]> out = new ArrayList<>(enc.size());
    for (int b = 0; b < enc.size(); b++) {
      long[] mask = enc.get(b).mask();
      double[] sum = new double[dim];
      int count = 0;
      for (int t = 0; t < mask.length; t++) {
        if (mask[t] != 0) {
          count++;
          int base = (b * seq + t) * dim;
          for (int d = 0; d < dim; d++) {
            sum[d] += hidden[base + d];
          }
        }
      }
      double norm = 0;
      for (int d = 0; d < dim; d++) {
        sum[d] /= Math.max(1, count);
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
}
