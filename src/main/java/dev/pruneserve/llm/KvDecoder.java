package dev.pruneserve.llm;

import dev.pruneserve.model.ModelSession;
import dev.pruneserve.tensor.DataType;
import dev.pruneserve.tensor.Tensor;
import dev.pruneserve.tensor.TensorSpec;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;

/**
 * Batch-1 incremental decoding over an exported decoder ({@code input_ids}, {@code attention_mask},
 * {@code position_ids}, {@code past_key_values.{i}.key|value} → {@code logits}, {@code
 * present.{i}.key|value}). Each layer's KV shape comes from the session's own input metadata, so
 * layers pruned to different head counts work. Not thread-safe: one decoder per generation; the
 * session is shared and must stay leased while the decoder is used.
 */
public final class KvDecoder {
  private static final String PAST = "past_key_values.";
  private static final String PRESENT = "present.";

  private final ModelSession session;
  private final Set<String> outputs = new LinkedHashSet<>();
  private final int vocab;
  private Map<String, Tensor> past = new LinkedHashMap<>();
  private int pastLength;

  public KvDecoder(ModelSession session) {
    this.session = session;
    TensorSpec logits = null;
    for (TensorSpec o : session.outputs()) {
      if (o.name().equals("logits") || o.name().startsWith(PRESENT)) {
        outputs.add(o.name());
      }
      if (o.name().equals("logits")) {
        logits = o;
      }
    }
    if (logits == null || logits.shape().length != 3 || logits.shape()[2] <= 0) {
      throw dev.pruneserve.error.ServingException.precondition(
          "model has no 'logits' output of shape [batch, seq, vocab]; it is not an exported causal LM");
    }
    this.vocab = (int) logits.shape()[2];
    for (TensorSpec s : session.inputs()) {
      if (s.name().startsWith(PAST)) {
        long[] shape = s.shape(); // [batch, heads_i, past, head_dim_i]
        shape[0] = 1;
        shape[2] = 0;
        past.put(s.name(), Tensor.fixed(s.name(), DataType.FP32, shape, ByteBuffer.allocate(0)));
      }
    }
  }

  public int vocab() {
    return vocab;
  }

  /** Positions already in the cache. */
  public int length() {
    return pastLength;
  }

  /** Feeds {@code ids} after the cached positions; returns logits [ids.length × vocab], row-major. */
  public float[] step(int[] ids) {
    int s = ids.length;
    int total = pastLength + s;
    Map<String, Tensor> in = new LinkedHashMap<>(past);
    int start = pastLength;
    in.put("input_ids", longs("input_ids", s, i -> ids[i]));
    in.put("attention_mask", longs("attention_mask", total, i -> 1));
    in.put("position_ids", longs("position_ids", s, i -> start + i));
    Map<String, Tensor> out = session.run(in, outputs);
    Map<String, Tensor> next = new LinkedHashMap<>();
    out.forEach((name, t) -> {
      if (name.startsWith(PRESENT)) {
        String p = PAST + name.substring(PRESENT.length());
        next.put(p, Tensor.fixed(p, t.type(), t.shape(), t.dataView()));
      }
    });
    past = next;
    pastLength = total;
    return out.get("logits").toFloatArray();
  }

  private static Tensor longs(String name, int n, java.util.function.IntToLongFunction f) {
    ByteBuffer b = ByteBuffer.allocate(n * 8).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < n; i++) {
      b.putLong(f.applyAsLong(i));
    }
    b.flip();
    return Tensor.fixed(name, DataType.INT64, new long[] {1, n}, b);
  }
}
