package dev.pruneserve.pruning.taylor;

import dev.pruneserve.grad.BackwardGraph;
import dev.pruneserve.graph.OnnxGraph;
import dev.pruneserve.onnx.proto.Onnx.ModelProto;
import dev.pruneserve.pruning.Progress;
import dev.pruneserve.pruning.calibration.CausalLmLoss;
import dev.pruneserve.pruning.transformer.DecoderStructure;
import dev.pruneserve.pruning.transformer.GatedMlpDiscovery;
import dev.pruneserve.pruning.transformer.HeadDiscovery;
import dev.pruneserve.pruning.transformer.HeadGroup;
import dev.pruneserve.pruning.transformer.MlpGroup;
import dev.pruneserve.pruning.zo.LossProbe;
import dev.pruneserve.pruning.zo.MiniLlm;
import dev.pruneserve.pruning.zo.ScoredTensor;
import dev.pruneserve.session.ModelSession;
import dev.pruneserve.session.SessionLoader;
import dev.pruneserve.tensor.Tensor;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * LLM-Pruner's block-wise Element¹ criterion ({@code param_first}, algorithms.md §4) with true
 * gradients from a generated backward graph: g = ∂L/∂W of the batch-mean causal-LM loss over the
 * calibration sequences (micro-batches, gradients summed in float64); per member slice Σ_k |g_k·W_k|
 * (q/k/v columns and o rows by head, gate/up columns and down rows by channel), members summed,
 * head score = sum of its channels'; local selection with LLM-Pruner's counts. No weight update.
 * Single-threaded; temporary models live in {@code work}.
 */
public final class TaylorLlm {
  /** Calibration sequences per backward pass (as MINI-LLM's default; the logits gradient is batch × tokens × vocabulary). */
  public static final int MICRO_BATCH = 8;

  private TaylorLlm() {}

  public static MiniLlm.Outcome prune(ModelProto dense, double ratio, int firstLayer, int endLayer,
      List<int[]> calibration, SessionLoader loader, Path work, Progress progress) throws IOException {
    OnnxGraph g = new OnnxGraph(dense);
    int layers = DecoderStructure.requireDecoderLayers(g);
    List<HeadGroup> blocks = HeadDiscovery.attentionBlocks(g);
    List<MlpGroup> mlps = GatedMlpDiscovery.gatedMlps(g);
    int end = endLayer < 0 ? layers : Math.min(endLayer, layers);
    if (firstLayer >= end) {
      throw new IllegalArgumentException("layer range [" + firstLayer + ", " + end + ") has no layer");
    }
    List<ScoredTensor> scored = ScoredTensor.of(g, blocks, mlps).stream()
        .filter(t -> t.layer() >= firstLayer && t.layer() < end).toList();
    long t0 = System.nanoTime();
    Map<String, double[]> grads = gradients(dense, scored.stream().map(ScoredTensor::name).toList(), calibration,
        loader, work, progress);
    double[][] heads = new double[layers][];
    double[][] channels = new double[layers][];
    for (ScoredTensor t : scored) {
      int l = t.layer();
      HeadGroup b = blocks.get(l);
      if (heads[l] == null) {
        heads[l] = new double[b.units()];
        channels[l] = new double[mlps.get(l).width()];
      }
      float[] w = t.values(g);
      double[] gw = grads.get(t.name());
      double[] into = t.role().head ? heads[l] : channels[l];
      for (int j = 0; j < t.in(); j++) {
        for (int r = 0; r < t.out(); r++) {
          int k = j * t.out() + r;
          into[t.group(j, r)] += Math.abs(gw[k] * w[k]);
        }
      }
      progress.report("scoring", 1);
    }
    Map<String, Object> diag = new LinkedHashMap<>();
    diag.put("importance", "element1 (LLM-Pruner param_first), backprop through a generated backward graph");
    diag.put("gradient_ms", (System.nanoTime() - t0) / 1_000_000);
    return MiniLlm.select(dense, new MiniLlm.Outcome(null, heads, channels, null, null, new double[0], diag,
        Map.of(), Map.of()), ratio);
  }

  /**
   * ∂L/∂W for each of {@code weights} (FP32 initializers) of the token-weighted mean cross-entropy
   * over {@code calibration}, reporting "calibrating" per micro-batch.
   */
  public static Map<String, double[]> gradients(ModelProto dense, List<String> weights, List<int[]> calibration,
      SessionLoader loader, Path work, Progress progress) throws IOException {
    if (calibration.isEmpty() || calibration.stream().anyMatch(s -> s.length < 2)) {
      throw new IllegalArgumentException("Taylor needs calibration sequences of at least 2 tokens");
    }
    ModelProto backward = BackwardGraph.build(CausalLmLoss.add(dense, "logits"), CausalLmLoss.LOGPROB_SUM, weights);
    Path file = work.resolve("taylor-backward.onnx");
    dev.pruneserve.repository.ModelFileWriter.write(backward, file, false);
    Map<String, double[]> sum = new LinkedHashMap<>();
    long predicted = calibration.stream().mapToLong(s -> s.length - 1).sum();
    try (ModelSession s = loader.load("taylor/1", file)) {
      List<Map<String, Tensor>> batches = LossProbe.batches(s, calibration, MICRO_BATCH, true);
      Set<String> outputs = new java.util.HashSet<>();
      weights.forEach(w -> outputs.add(BackwardGraph.gradName(w)));
      for (int i = 0; i < batches.size(); i++) {
        Map<String, Tensor> out = s.run(batches.get(i), outputs);
        for (String w : weights) {
          float[] gb = out.get(BackwardGraph.gradName(w)).toFloatArray();
          double[] acc = sum.computeIfAbsent(w, k -> new double[gb.length]);
          for (int k = 0; k < gb.length; k++) {
            acc[k] -= gb[k] / (double) predicted; // L = −Σ log p / tokens
          }
        }
        progress.report("calibrating", (i + 1.0) / batches.size());
      }
    } finally {
      dev.pruneserve.repository.ModelFileWriter.delete(file);
    }
    return sum;
  }
}
