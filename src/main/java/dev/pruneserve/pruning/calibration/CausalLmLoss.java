package dev.pruneserve.pruning.calibration;

import dev.pruneserve.graph.ModelBuilder;
import dev.pruneserve.llm.KvDecoder;
import dev.pruneserve.onnx.proto.Onnx.GraphProto;
import dev.pruneserve.onnx.proto.Onnx.ModelProto;
import dev.pruneserve.onnx.proto.Onnx.NodeProto;
import dev.pruneserve.onnx.proto.Onnx.TensorProto;
import dev.pruneserve.onnx.proto.Onnx.ValueInfoProto;
import dev.pruneserve.session.ModelSession;
import dev.pruneserve.session.SessionLoader;
import dev.pruneserve.tensor.DataType;
import dev.pruneserve.tensor.Tensor;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The causal-LM loss computed inside the graph, so only a scalar leaves ONNX Runtime: a copy of a
 * decoder gains inputs {@code loss.targets} (INT64 [batch, seq], the next token at each position)
 * and {@code loss.weights} (FP32 [batch, seq], 1 where a next token exists) and the output
 * {@code loss.logprob_sum} = Σ weights · log softmax(logits)[target] (FP32 scalar), the copy's
 * only output, computed with a chunked log-sum-exp that makes no tensor as large as the logits
 * (so scoring needs about the memory of inference).
 */
public final class CausalLmLoss {
  public static final String TARGETS = "loss.targets";
  public static final String WEIGHTS = "loss.weights";
  public static final String LOGPROB_SUM = "loss.logprob_sum";

  private CausalLmLoss() {}

  public static ModelProto add(ModelProto model, String logits) {
    GraphProto.Builder g = model.getGraph().toBuilder();
    g.addInput(ModelBuilder.valueInfo(TARGETS, 7, "batch", "seq"));
    g.addInput(ModelBuilder.valueInfo(WEIGHTS, 1, "batch", "seq"));
    g.addInitializer(TensorProto.newBuilder().setName("loss.last_axis").setDataType(7).addDims(1).addInt64Data(-1));
    // log p(target) = logits[target] − logsumexp(logits), the log-sum-exp in two stages over
    // vocabulary chunks (a Reshape view): each stage is max-shifted and short enough that float32
    // accumulation loses no tail mass, and no vocabulary-sized tensor is made besides the logits.
    // The model's own outputs are dropped (only the loss leaves ONNX Runtime).
    int vocab = vocab(model, logits);
    int chunk = chunk(vocab);
    g.clearOutput();
    g.addInitializer(TensorProto.newBuilder().setName("loss.chunked_shape").setDataType(7).addDims(4)
        .addInt64Data(0).addInt64Data(0).addInt64Data(vocab / chunk).addInt64Data(vocab == 1 ? -1 : chunk));
    g.addNode(node("Reshape", "loss.chunked", logits, "loss.chunked_shape"));
    boolean axesInput = opset(model) >= 18; // reductions take axes as an input from opset 18 on
    g.addNode(lastAxisLse("loss.lse_chunks", "loss.chunked", axesInput));
    g.addNode(lastAxisLse("loss.lse", "loss.lse_chunks", axesInput));
    g.addNode(node("Unsqueeze", "loss.targets3", TARGETS, "loss.last_axis"));
    g.addNode(node("GatherElements", "loss.picked3", logits, "loss.targets3")
        .addAttribute(ModelBuilder.intAttr("axis", -1)));
    g.addNode(node("Squeeze", "loss.picked", "loss.picked3", "loss.last_axis"));
    g.addNode(node("Sub", "loss.logp", "loss.picked", "loss.lse"));
    g.addNode(node("Mul", "loss.weighted", "loss.logp", WEIGHTS));
    g.addNode(node("ReduceSum", LOGPROB_SUM, "loss.weighted").addAttribute(ModelBuilder.intAttr("keepdims", 0)));
    g.addOutput(ValueInfoProto.newBuilder().setName(LOGPROB_SUM));
    return model.toBuilder().setGraph(g).build();
  }

  /**
   * Token-weighted mean cross-entropy of {@code model} over {@code sequences} (each with its BOS,
   * run as its own batch): −Σ log p(next) / number of predicted tokens, accumulated in float64.
   */
  public static double meanCrossEntropy(ModelProto model, List<int[]> sequences, SessionLoader loader, Path file)
      throws IOException {
    dev.pruneserve.repository.ModelFileWriter.write(add(model, "logits"), file, false);
    double sum = 0;
    long count = 0;
    try (ModelSession s = loader.load("loss/1", file)) {
      for (int[] seq : sequences) {
        Map<String, Tensor> in = new java.util.LinkedHashMap<>(KvDecoder.prefillInputs(s, seq));
        ByteBuffer t = ByteBuffer.allocate(seq.length * 8).order(ByteOrder.LITTLE_ENDIAN);
        float[] w = new float[seq.length];
        for (int i = 0; i < seq.length; i++) {
          t.putLong(i + 1 < seq.length ? seq[i + 1] : 0);
          w[i] = i + 1 < seq.length ? 1 : 0;
        }
        in.put(TARGETS, Tensor.fixed(TARGETS, DataType.INT64, new long[] {1, seq.length}, t.flip()));
        in.put(WEIGHTS, Tensor.fp32(WEIGHTS, new long[] {1, seq.length}, w));
        sum -= s.run(in, Set.of(LOGPROB_SUM)).get(LOGPROB_SUM).toFloatArray()[0];
        count += seq.length - 1;
      }
    } finally {
      dev.pruneserve.repository.ModelFileWriter.delete(file);
    }
    return sum / count;
  }

  private static NodeProto.Builder lastAxisLse(String out, String in, boolean axesInput) {
    NodeProto.Builder n = axesInput ? node("ReduceLogSumExp", out, in, "loss.last_axis")
        : node("ReduceLogSumExp", out, in).addAttribute(ModelBuilder.intsAttr("axes", -1));
    return n.addAttribute(ModelBuilder.intAttr("keepdims", 0));
  }

  private static long opset(ModelProto m) {
    return m.getOpsetImportList().stream().filter(o -> o.getDomain().isEmpty() || o.getDomain().equals("ai.onnx"))
        .mapToLong(o -> o.getVersion()).max().orElse(17);
  }

  /** The static vocabulary size of {@code logits} [batch, seq, vocab], or 1 when it is not fixed. */
  private static int vocab(ModelProto m, String logits) {
    return m.getGraph().getOutputList().stream().filter(o -> o.getName().equals(logits)).findFirst()
        .filter(o -> o.getType().getTensorType().getShape().getDimCount() == 3)
        .map(o -> (int) o.getType().getTensorType().getShape().getDim(2).getDimValue()).filter(v -> v > 0)
        .orElse(1);
  }

  /**
   * Chunk length: the largest divisor of {@code vocab} up to 512, or {@code vocab} itself when there
   * is none (then the first stage covers the whole vocabulary; still exact, as each stage is
   * max-shifted). An unknown vocabulary (1) gives one chunk of the whole last axis.
   */
  static int chunk(int vocab) {
    for (int c = Math.min(512, vocab); c > 1; c--) {
      if (vocab % c == 0) {
        return c;
      }
    }
    return vocab;
  }

  private static NodeProto.Builder node(String op, String out, String... in) {
    NodeProto.Builder n = NodeProto.newBuilder().setOpType(op).setName(out + ".node").addOutput(out);
    for (String i : in) {
      n.addInput(i);
    }
    return n;
  }
}
