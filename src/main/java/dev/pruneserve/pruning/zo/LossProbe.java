package dev.pruneserve.pruning.zo;

import dev.pruneserve.onnx.proto.Onnx.ModelProto;
import dev.pruneserve.pruning.calibration.CausalLmLoss;
import dev.pruneserve.session.ModelSession;
import dev.pruneserve.session.SessionLoader;
import dev.pruneserve.tensor.DataType;
import dev.pruneserve.tensor.Tensor;
import dev.pruneserve.tensor.TensorSpec;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A calibration copy of a decoder that evaluates the causal-LM loss for given weights or gates,
 * forward only: the loss is computed in the graph ({@link CausalLmLoss}); the chosen weight
 * initializers become graph inputs (ONNX Runtime Java cannot override initializers) and each
 * {@link Gate} inserts a Mul by a per-channel input vector in front of the MatMul that reads its
 * weight. Calibration sequences run in micro-batches sorted by length and right-padded (causal
 * attention keeps padding inert; padded positions weigh 0). One session for the probe's lifetime;
 * not thread-safe. Feeds must hold every weight input and gate; FP32 feeds over direct buffers are
 * read in place (no copy) and must not change during {@link #meanLoss}.
 */
public final class LossProbe implements AutoCloseable {
  /**
   * Multiplies the input of the MatMul reading {@code weight} by graph input {@code name} [width],
   * then adds graph input {@code fill} [width] when it is not null (x·m + fill: with fill =
   * (1 − m)·x̄, removed channels carry their calibration mean, FLAP's bias compensation).
   */
  public record Gate(String name, String weight, int width, String fill) {
    public Gate(String name, String weight, int width) {
      this(name, weight, width, null);
    }
  }

  private final ModelSession session;
  private final Path file;
  private final List<Map<String, Tensor>> batches = new ArrayList<>();
  private final long predicted;

  private LossProbe(ModelSession session, Path file, List<int[]> calibration, int microBatch) {
    this.session = session;
    this.file = file;
    batches.addAll(batches(session, calibration, microBatch, true));
    this.predicted = calibration.stream().mapToLong(s -> s.length - 1).sum();
  }

  /**
   * Inputs of a decoder session for {@code calibration} in micro-batches: sequences sorted by
   * length (longest first), right-padded, mask of ones (causal attention keeps padding inert),
   * positions 0..T−1, empty KV cache; with {@code loss}, also the targets and 0/1 weights of
   * {@link CausalLmLoss} (padding and last positions weigh 0).
   */
  public static List<Map<String, Tensor>> batches(ModelSession session, List<int[]> calibration, int microBatch,
      boolean loss) {
    List<int[]> sorted = new ArrayList<>(calibration);
    sorted.sort(Comparator.comparingInt((int[] s) -> s.length).reversed());
    List<Map<String, Tensor>> out = new ArrayList<>();
    for (int i = 0; i < sorted.size(); i += microBatch) {
      out.add(inputs(session, sorted.subList(i, Math.min(sorted.size(), i + microBatch)), loss));
    }
    return out;
  }

  /** Builds the copy in {@code file}, loads it through {@code loader} (file removed on close). */
  public static LossProbe open(ModelProto dense, List<String> weightInputs, List<Gate> gates, List<int[]> calibration,
      int microBatch, SessionLoader loader, Path file) throws IOException {
    if (calibration.isEmpty() || microBatch < 1 || calibration.stream().anyMatch(c -> c.length < 2)) {
      throw new IllegalArgumentException("a loss probe needs calibration sequences of at least 2 tokens and a"
          + " micro-batch >= 1");
    }
    ModelProto copy = CausalLmLoss.add(GatedCopy.of(dense, weightInputs, gates), "logits");
    dev.pruneserve.repository.ModelFileWriter.write(copy, file, false);
    ModelSession session = null;
    try {
      session = loader.load("zo-probe/1", file);
      return new LossProbe(session, file, calibration, microBatch);
    } catch (RuntimeException e) {
      if (session != null) {
        session.close();
      }
      dev.pruneserve.repository.ModelFileWriter.delete(file);
      throw e;
    }
  }

  /** Next-token positions per loss evaluation. */
  public long predictedTokens() {
    return predicted;
  }

  /** Micro-batches per loss evaluation. */
  public int batchCount() {
    return batches.size();
  }

  /** Token-weighted mean cross-entropy over all calibration sequences (float64 over batch sums). */
  public double meanLoss(Map<String, Tensor> feeds) {
    return meanLoss(feeds, () -> {});
  }

  /** As above; {@code perBatch} runs after each micro-batch (progress, cancellation). */
  public double meanLoss(Map<String, Tensor> feeds, Runnable perBatch) {
    double sum = 0;
    for (Map<String, Tensor> b : batches) {
      Map<String, Tensor> in = new LinkedHashMap<>(b);
      in.putAll(feeds);
      sum -= session.run(in, Set.of(CausalLmLoss.LOGPROB_SUM)).get(CausalLmLoss.LOGPROB_SUM).toFloatArray()[0];
      perBatch.run();
    }
    return sum / predicted;
  }

  private static Map<String, Tensor> inputs(ModelSession session, List<int[]> mb, boolean loss) {
    int b = mb.size();
    int t = mb.get(0).length; // sorted by length, longest first
    long[] ids = new long[b * t];
    long[] pos = new long[b * t];
    long[] mask = new long[b * t];
    long[] targets = new long[b * t];
    float[] weights = new float[b * t];
    for (int r = 0; r < b; r++) {
      int[] s = mb.get(r);
      for (int i = 0; i < t; i++) {
        ids[r * t + i] = i < s.length ? s[i] : 0;
        pos[r * t + i] = i;
        mask[r * t + i] = 1; // causal: later padding never reaches earlier positions
        if (i + 1 < s.length) {
          targets[r * t + i] = s[i + 1];
          weights[r * t + i] = 1;
        }
      }
    }
    Map<String, Tensor> in = new LinkedHashMap<>();
    long[] shape = {b, t};
    in.put("input_ids", longs("input_ids", shape, ids));
    Set<String> declared = new java.util.HashSet<>();
    session.inputs().forEach(x -> declared.add(x.name()));
    if (declared.contains("attention_mask")) {
      in.put("attention_mask", longs("attention_mask", shape, mask));
    }
    if (declared.contains("position_ids")) { // exports without it derive positions in-graph
      in.put("position_ids", longs("position_ids", shape, pos));
    }
    if (loss) {
      in.put(CausalLmLoss.TARGETS, longs(CausalLmLoss.TARGETS, shape, targets));
      in.put(CausalLmLoss.WEIGHTS, Tensor.fp32(CausalLmLoss.WEIGHTS, shape, weights));
    }
    for (TensorSpec s : session.inputs()) {
      if (s.name().startsWith("past_key_values.")) {
        long[] p = s.shape(); // [batch, heads, past, head_dim]
        p[0] = b;
        p[2] = 0;
        in.put(s.name(), Tensor.fixed(s.name(), s.type(), p, ByteBuffer.allocate(0)));
      }
    }
    return in;
  }

  private static Tensor longs(String name, long[] shape, long[] v) {
    ByteBuffer buf = ByteBuffer.allocate(v.length * 8).order(ByteOrder.LITTLE_ENDIAN);
    buf.asLongBuffer().put(v);
    return Tensor.fixed(name, DataType.INT64, shape, buf);
  }

  @Override
  public void close() throws IOException {
    session.close();
    dev.pruneserve.repository.ModelFileWriter.delete(file);
  }
}
