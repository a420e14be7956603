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

/** Test helper: one decoder step over a batch-1 sequence with an explicit KV cache. */
final class DecoderRunner {
  private final ModelSession session;
  private Map<String, Tensor> past = new LinkedHashMap<>();
  private int pastLen;

  DecoderRunner(ModelSession session) {
    this.session = session;
    reset();
  }

  void reset() {
    past = new LinkedHashMap<>();
    pastLen = 0;
    for (TensorSpec s : session.inputs()) {
      if (s.name().startsWith("past_key_values.")) {
        long[] shape = s.shape();
        shape[0] = 1;
        shape[2] = 0;
        past.put(s.name(), Tensor.fixed(s.name(), DataType.FP32, shape, ByteBuffer.allocate(0)));
      }
    }
  }

  /** Feeds {@code ids} after the cached positions; returns logits [ids.length, vocab] row-major. */
  float[] step(int[] ids) {
    int s = ids.length;
    int total = pastLen + s;
    Map<String, Tensor> in = new LinkedHashMap<>(past);
    in.put("input_ids", longs("input_ids", new long[] {1, s}, i -> ids[i]));
    in.put("attention_mask", longs("attention_mask", new long[] {1, total}, i -> 1));
    in.put("position_ids", longs("position_ids", new long[] {1, s}, i -> pastLen + i));
    Set<String> outs = new LinkedHashSet<>();
    session.outputs().forEach(o -> outs.add(o.name()));
    Map<String, Tensor> out = session.run(in, outs);
    Map<String, Tensor> next = new LinkedHashMap<>();
    out.forEach((name, t) -> {
      if (name.startsWith("present.")) {
        String pastName = "past_key_values." + name.substring("present.".length());
        next.put(pastName, Tensor.fixed(pastName, t.type(), t.shape(), t.dataView()));
      }
    });
    past = next;
    pastLen = total;
    return out.get("logits").toFloatArray();
  }

  private static Tensor longs(String name, long[] shape, java.util.function.IntToLongFunction f) {
    int n = (int) (shape[0] * shape[1]);
    ByteBuffer b = ByteBuffer.allocate(n * 8).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < n; i++) {
      b.putLong(f.applyAsLong(i));
    }
    b.flip();
    return Tensor.fixed(name, DataType.INT64, shape, b);
  }

  static int argmax(float[] logits, int row, int vocab) {
    int best = 0;
    for (int v = 1; v < vocab; v++) {
      if (logits[row * vocab + v] > logits[row * vocab + best]) {
        best = v;
      }
    }
    return best;
  }
}
