package dev.pruneserve.eval;

import dev.pruneserve.embed.Pooling;
import dev.pruneserve.session.ModelSession;
import dev.pruneserve.tensor.DataType;
import dev.pruneserve.tensor.Tensor;
import dev.pruneserve.tensor.TensorSpec;
import dev.pruneserve.tokenizer.HfTokenizer;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Quality of a pruned sentence encoder without labels (fixtures.md §2): cosine similarity between
 * its mean-pooled embedding and the dense model's, per text (each run alone, no padding), summarised
 * as mean and minimum over the texts.
 */
public final class EmbeddingAgreement {
  public record Result(double meanCosine, double minCosine, int texts) {}

  private EmbeddingAgreement() {}

  public static Result evaluate(ModelSession model, ModelSession dense, HfTokenizer tok, List<String> texts) {
    if (texts.isEmpty()) {
      throw new IllegalArgumentException("embedding agreement needs at least one text");
    }
    double sum = 0;
    double min = Double.POSITIVE_INFINITY;
    for (String t : texts) {
      HfTokenizer.Encoded e = tok.encode(t);
      double c = cosine(embed(model, e), embed(dense, e));
      sum += c;
      min = Math.min(min, c);
    }
    return new Result(sum / texts.size(), min, texts.size());
  }

  /** Mean-pooled last hidden state of one encoded text, [dim]. */
  static float[] embed(ModelSession s, HfTokenizer.Encoded e) {
    Map<String, Tensor> in = new LinkedHashMap<>();
    for (TensorSpec spec : s.inputs()) {
      long[] v = switch (spec.name()) {
        case "input_ids" -> e.ids();
        case "attention_mask" -> e.mask();
        case "token_type_ids" -> e.typeIds();
        default -> throw new IllegalArgumentException("encoder input '" + spec.name() + "' is not a BERT input");
      };
      ByteBuffer b = ByteBuffer.allocate(v.length * 8).order(ByteOrder.LITTLE_ENDIAN);
      for (long x : v) {
        b.putLong(x);
      }
      in.put(spec.name(), Tensor.fixed(spec.name(), DataType.INT64, new long[] {1, v.length}, b.flip()));
    }
    TensorSpec out = s.outputs().stream().filter(o -> o.type() == DataType.FP32 && o.shape().length == 3).findFirst()
        .orElseThrow(() -> new IllegalArgumentException("no FP32 [batch, seq, dim] output"));
    Tensor h = s.run(in, Set.of(out.name())).get(out.name());
    return Pooling.meanPool(h.toFloatArray(), List.of(e), e.ids().length, (int) h.shape()[2], false).get(0);
  }

  static double cosine(float[] a, float[] b) {
    double dot = 0;
    double na = 0;
    double nb = 0;
    for (int i = 0; i < a.length; i++) {
      dot += (double) a[i] * b[i];
      na += (double) a[i] * a[i];
      nb += (double) b[i] * b[i];
    }
    return dot / Math.sqrt(na * nb);
  }
}
