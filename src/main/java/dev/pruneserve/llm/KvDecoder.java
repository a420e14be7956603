package dev.pruneserve.llm;

import dev.pruneserve.session.CarryRun;
import dev.pruneserve.session.ModelSession;
import dev.pruneserve.tensor.DataType;
import dev.pruneserve.tensor.Tensor;
import dev.pruneserve.tensor.TensorSpec;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * Batch-1 incremental decoding over an exported decoder ({@code input_ids}, optional {@code
 * attention_mask} and {@code position_ids} (Optimum exports without them compute positions
 * in-graph), {@code past_key_values.{i}.key|value} → {@code logits}, {@code present.{i}.key|value});
 * only the inputs the model declares are fed, and a model that declares other inputs is refused
 * when the decoder opens. Each layer's KV shape comes from the session's own input metadata, so
 * layers pruned to different head counts work. The cache stays inside the runtime between steps
 * (a {@link CarryRun}); only logits are copied out. Not thread-safe: one decoder per generation;
 * the session is shared and must stay leased until the decoder is closed.
 */
public final class KvDecoder implements AutoCloseable {
  private static final String PAST = "past_key_values.";
  private static final String PRESENT = "present.";

  private final ModelSession session;
  private static final Set<String> LOGITS = Set.of("logits");
  private final int vocab;
  private final CarryRun run;
  private final boolean mask;
  private final boolean positions;
  private int pastLength;

  public KvDecoder(ModelSession session) {
    this.session = session;
    this.vocab = vocab(session);
    Map<String, String> carry = new LinkedHashMap<>();
    for (TensorSpec o : session.outputs()) {
      if (o.name().startsWith(PRESENT)) {
        carry.put(o.name(), PAST + o.name().substring(PRESENT.length()));
      }
    }
    Map<String, Tensor> past = emptyPast(session, 1);
    Set<String> declared = declared(session);
    this.mask = declared.contains("attention_mask");
    this.positions = declared.contains("position_ids");
    this.run = session.openCarryRun(carry, past);
  }

  /**
   * Checks that {@code session} is an exported causal LM this decoder can run (logits [batch,
   * seq, vocab], matching 4-d past/present caches, known inputs); returns its vocabulary size.
   */
  static int vocab(ModelSession session) {
    TensorSpec logits = null;
    Map<String, String> carry = new LinkedHashMap<>();
    for (TensorSpec o : session.outputs()) {
      if (o.name().startsWith(PRESENT)) {
        carry.put(o.name(), PAST + o.name().substring(PRESENT.length()));
      }
      if (o.name().equals("logits")) {
        logits = o;
      }
    }
    if (logits == null || logits.shape().length != 3 || logits.shape()[2] <= 0) {
      throw dev.pruneserve.error.ServingException.precondition(
          "model has no 'logits' output of shape [batch, seq, vocab]; it is not an exported causal LM");
    }
    Set<String> past = new java.util.HashSet<>();
    for (TensorSpec s : session.inputs()) {
      if (s.name().startsWith(PAST)) {
        long[] shape = s.shape(); // [batch, heads_i, past, head_dim_i]
        if (shape.length != 4 || s.type().byteSize() == 0 || shape[1] <= 0 || shape[3] <= 0) {
          throw dev.pruneserve.error.ServingException.precondition("cache input '" + s.name()
              + "' is not a [batch, heads, past, head_dim] tensor with fixed heads and head_dim");
        }
        past.add(s.name());
      }
    }
    if (!carry.values().containsAll(past) || carry.size() != past.size()) {
      throw dev.pruneserve.error.ServingException.precondition("model's present.* outputs " + carry.keySet()
          + " do not match its past_key_values.* inputs " + past);
    }
    declared(session);
    return (int) logits.shape()[2];
  }

  /** The model's input names, checked: input_ids, optional mask and positions, past_key_values.*. */
  static Set<String> declared(ModelSession session) {
    Set<String> names = new java.util.HashSet<>();
    java.util.List<String> unknown = new java.util.ArrayList<>();
    for (TensorSpec s : session.inputs()) {
      names.add(s.name());
      if (!s.name().startsWith(PAST) && !KNOWN.contains(s.name())) {
        unknown.add(s.name());
      }
    }
    if (!names.contains("input_ids") || !unknown.isEmpty()) {
      throw dev.pruneserve.error.ServingException.precondition("a causal LM is fed input_ids, optionally"
          + " attention_mask and position_ids, and past_key_values.*; this model "
          + (names.contains("input_ids") ? "also declares " + unknown : "has no input_ids input"));
    }
    return names;
  }

  private static final Set<String> KNOWN = Set.of("input_ids", "attention_mask", "position_ids");

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
    Map<String, Tensor> in = new LinkedHashMap<>();
    int start = pastLength;
    in.put("input_ids", longs("input_ids", s, i -> ids[i]));
    if (mask) {
      in.put("attention_mask", longs("attention_mask", total, i -> 1));
    }
    if (positions) {
      in.put("position_ids", longs("position_ids", s, i -> start + i));
    }
    Map<String, Tensor> out = run.step(in, LOGITS);
    pastLength = total;
    return out.get("logits").toFloatArray();
  }

  /** Frees the cache; idempotent. */
  @Override
  public void close() {
    run.close();
  }

  /**
   * Inputs of one full-sequence pass without a cache (batch 1): ids, mask of ones, positions 0..n−1
   * and empty past tensors shaped from the session's metadata. For calibration runs that read
   * other outputs than logits.
   */
  public static Map<String, Tensor> prefillInputs(ModelSession session, int[] ids) {
    Map<String, Tensor> in = emptyPast(session, 1);
    Set<String> declared = new java.util.HashSet<>(); // callers add their own extra inputs (loss targets)
    session.inputs().forEach(x -> declared.add(x.name()));
    in.put("input_ids", longs("input_ids", ids.length, i -> ids[i]));
    if (declared.contains("attention_mask")) {
      in.put("attention_mask", longs("attention_mask", ids.length, i -> 1));
    }
    if (declared.contains("position_ids")) {
      in.put("position_ids", longs("position_ids", ids.length, i -> i));
    }
    if (declared.contains("token_type_ids")) { // encoders: one segment
      in.put("token_type_ids", longs("token_type_ids", ids.length, i -> 0));
    }
    return in;
  }

  /** The {@code past_key_values.*} inputs of a first step: [batch, heads_i, 0, head_dim_i]. */
  static Map<String, Tensor> emptyPast(ModelSession session, int batch) {
    Map<String, Tensor> past = new LinkedHashMap<>();
    for (TensorSpec s : session.inputs()) {
      if (s.name().startsWith(PAST)) {
        long[] shape = s.shape();
        shape[0] = batch;
        shape[2] = 0;
        past.put(s.name(), Tensor.fixed(s.name(), s.type(), shape, ByteBuffer.allocate(0)));
      }
    }
    return past;
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
