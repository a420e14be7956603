package dev.pruneserve.llm;

import dev.pruneserve.session.CarryRun;
import dev.pruneserve.session.ModelSession;
import dev.pruneserve.tensor.DataType;
import dev.pruneserve.tensor.Tensor;
import dev.pruneserve.tensor.TensorSpec;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The batched KV cache of the sequences one session decodes together, left-padded: every row has
 * {@link #width()} cached columns, of which its own {@code length} are the last ones; the
 * attention mask hides the rest and each row's position ids count its own tokens, so a row's
 * logits are those of the batch-1 run up to kernel rounding. The cache stays in the runtime
 * between steps (a {@link CarryRun}); it is copied out only to {@link #rebuild} the batch when
 * rows join or leave. Each layer's heads and head size come from its own tensors, so pruned
 * variants with different shapes per layer work. Not thread-safe (one scheduler thread); the
 * session must stay leased while the batch is open.
 */
final class DecodeBatch implements AutoCloseable {
  private static final String PAST = "past_key_values.";
  private static final String PRESENT = "present.";

  /** One sequence's cache inside a set of cache tensors [rows, heads, width, head_dim]. */
  record RowRef(Map<String, Tensor> tensors, int width, int row, int length) {}

  /** Prefilled prompts: per prompt its cache row and the logits that predict its next token. */
  record Prefill(List<RowRef> rows, float[] logits, int vocab) {}

  private final ModelSession session;
  private final Map<String, String> carry = new LinkedHashMap<>(); // present.i → past_key_values.i
  private final List<TensorSpec> pasts = new ArrayList<>();
  private final Set<String> returned = new HashSet<>();
  private final int vocab;
  private CarryRun run;
  private int width;
  private int[] lengths = new int[0];

  /** Whether {@code session} can decode rows of different lengths together (mask + positions, dynamic batch). */
  static boolean supports(ModelSession session) {
    Set<String> declared = KvDecoder.declared(session);
    TensorSpec ids = session.inputs().stream().filter(s -> s.name().equals("input_ids")).findFirst().orElseThrow();
    return declared.contains("attention_mask") && declared.contains("position_ids") && ids.shape().length == 2
        && ids.shape()[0] < 0;
  }

  DecodeBatch(ModelSession session, int vocab) {
    this.session = session;
    this.vocab = vocab;
    for (TensorSpec o : session.outputs()) {
      if (o.name().startsWith(PRESENT)) {
        carry.put(o.name(), PAST + o.name().substring(PRESENT.length()));
      }
    }
    for (TensorSpec s : session.inputs()) {
      if (s.name().startsWith(PAST)) {
        pasts.add(s);
      }
    }
    returned.add("logits");
  }

  int rows() {
    return lengths.length;
  }

  /** Padded cached positions of every row. */
  int width() {
    return width;
  }

  /** Cached positions of row {@code r}. */
  int length(int r) {
    return lengths[r];
  }

  /** This batch's rows as rebuild sources (the cache copied out of the runtime). */
  List<RowRef> current() {
    List<RowRef> out = new ArrayList<>();
    if (run != null) {
      Map<String, Tensor> tensors = run.carried();
      for (int r = 0; r < lengths.length; r++) {
        out.add(new RowRef(tensors, width, r, lengths[r]));
      }
    }
    return out;
  }

  /**
   * Runs {@code prompts} in one left-padded pass without a cache; the caches become rebuild
   * sources and row {@code p} of the returned logits predicts prompt {@code p}'s next token.
   */
  Prefill prefill(List<int[]> prompts) {
    int n = prompts.size();
    int w = prompts.stream().mapToInt(p -> p.length).max().orElseThrow();
    long[] ids = new long[n * w];
    long[] mask = new long[n * w];
    long[] pos = new long[n * w];
    for (int p = 0; p < n; p++) {
      int[] prompt = prompts.get(p);
      int pad = w - prompt.length;
      for (int j = 0; j < prompt.length; j++) {
        ids[p * w + pad + j] = prompt[j];
        mask[p * w + pad + j] = 1;
        pos[p * w + pad + j] = j;
      }
    }
    Map<String, Tensor> in = new LinkedHashMap<>();
    in.put("input_ids", longs("input_ids", n, w, ids));
    in.put("attention_mask", longs("attention_mask", n, w, mask));
    in.put("position_ids", longs("position_ids", n, w, pos));
    in.putAll(KvDecoder.emptyPast(session, n));
    Set<String> wanted = new HashSet<>(carry.keySet());
    wanted.add("logits");
    Map<String, Tensor> out = session.run(in, wanted);
    Map<String, Tensor> caches = new LinkedHashMap<>();
    carry.forEach((present, past) -> caches.put(past, out.get(present)));
    float[] all = out.get("logits").toFloatArray();
    float[] last = new float[n * vocab];
    List<RowRef> rows = new ArrayList<>();
    for (int p = 0; p < n; p++) {
      System.arraycopy(all, (p * w + w - 1) * vocab, last, p * vocab, vocab);
      rows.add(new RowRef(caches, w, p, prompts.get(p).length));
    }
    return new Prefill(rows, last, vocab);
  }

  /**
   * Replaces the batch by {@code rows} (in that order), each right-aligned in a cache as wide as
   * the longest; the old cache is freed. An empty list empties the batch.
   */
  void rebuild(List<RowRef> rows) {
    int w = rows.stream().mapToInt(RowRef::length).max().orElse(0);
    Map<String, Tensor> initial = new LinkedHashMap<>();
    if (!rows.isEmpty()) {
      for (TensorSpec s : pasts) {
        initial.put(s.name(), gather(s.name(), rows, w));
      }
    }
    close();
    lengths = rows.stream().mapToInt(RowRef::length).toArray();
    width = w;
    if (!rows.isEmpty()) {
      run = session.openCarryRun(carry, initial);
    }
  }

  private static Tensor gather(String name, List<RowRef> rows, int w) {
    Tensor first = rows.get(0).tensors().get(name);
    long[] shape = first.shape().clone(); // [rows, heads, width, head_dim]
    int heads = (int) shape[1];
    int bytesPerPos = (int) shape[3] * first.type().byteSize();
    shape[0] = rows.size();
    shape[2] = w;
    ByteBuffer dst = ByteBuffer.allocateDirect(rows.size() * heads * w * bytesPerPos).order(ByteOrder.LITTLE_ENDIAN);
    for (int b = 0; b < rows.size(); b++) {
      RowRef r = rows.get(b);
      ByteBuffer src = r.tensors().get(name).data();
      int n = r.length() * bytesPerPos;
      for (int h = 0; h < heads; h++) {
        int from = ((r.row() * heads + h) * r.width() + r.width() - r.length()) * bytesPerPos;
        int to = ((b * heads + h) * w + w - r.length()) * bytesPerPos;
        dst.put(to, src, from, n);
      }
    }
    return Tensor.fixed(name, first.type(), shape, dst);
  }

  /**
   * One decoding step of every row: row {@code r} is fed {@code ids[r]} at its next position.
   * Returns logits [rows × vocab].
   */
  float[] step(int[] ids) {
    int n = lengths.length;
    long[] in = new long[n];
    long[] pos = new long[n];
    long[] mask = new long[n * (width + 1)];
    for (int r = 0; r < n; r++) {
      in[r] = ids[r];
      pos[r] = lengths[r];
      java.util.Arrays.fill(mask, r * (width + 1) + width - lengths[r], (r + 1) * (width + 1), 1L);
    }
    Map<String, Tensor> feed = new LinkedHashMap<>();
    feed.put("input_ids", longs("input_ids", n, 1, in));
    feed.put("attention_mask", longs("attention_mask", n, width + 1, mask));
    feed.put("position_ids", longs("position_ids", n, 1, pos));
    float[] logits = run.step(feed, returned).get("logits").toFloatArray();
    width++;
    for (int r = 0; r < n; r++) {
      lengths[r]++;
    }
    return logits;
  }

  private static Tensor longs(String name, int rows, int cols, long[] values) {
    ByteBuffer b = ByteBuffer.allocate(values.length * 8).order(ByteOrder.LITTLE_ENDIAN);
    b.asLongBuffer().put(values);
    return Tensor.fixed(name, DataType.INT64, new long[] {rows, cols}, b);
  }

  /** Frees the cache; idempotent. */
  @Override
  public void close() {
    if (run != null) {
      run.close();
      run = null;
    }
  }
}
