package dev.pruneserve.pruning.recovery;

import dev.pruneserve.grad.BackwardGraph;
import dev.pruneserve.graph.FloatTensors;
import dev.pruneserve.graph.OnnxGraph;
import dev.pruneserve.onnx.proto.Onnx.GraphProto;
import dev.pruneserve.onnx.proto.Onnx.ModelProto;
import dev.pruneserve.onnx.proto.Onnx.NodeProto;
import dev.pruneserve.onnx.proto.Onnx.TensorProto;
import dev.pruneserve.pruning.Progress;
import dev.pruneserve.pruning.calibration.CausalLmLoss;
import dev.pruneserve.pruning.zo.GatedCopy;
import dev.pruneserve.pruning.zo.LossProbe;
import dev.pruneserve.repository.ModelFileWriter;
import dev.pruneserve.session.ModelSession;
import dev.pruneserve.session.SessionLoader;
import dev.pruneserve.tensor.Tensor;
import java.io.IOException;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * Recovery fine-tune of a pruned decoder, the comparator of reconstruction (issue 22): Adam (β₁
 * 0.9, β₂ 0.999, ε 1e-8, constant learning rate, no weight decay) on the mean causal-LM loss of
 * the calibration sequences with the pruned structure fixed; trainable: every 2-D FP32 weight read
 * by a MatMul (attention and MLP projections, lm_head), embeddings and norms frozen. Gradients
 * come from the generated backward graph ({@link BackwardGraph}); the trainable weights are graph
 * inputs, so one session serves every step. One step = one micro-batch of {@link #MICRO_BATCH}
 * sequences, batches in a seeded order per epoch. Peak memory: the backward session's activations
 * of one micro-batch plus weights, gradients and two Adam moments. Single-threaded.
 */
public final class FineTune {
  public static final int MICRO_BATCH = 8;

  private FineTune() {}

  /** The tuned model and the mean loss (nats per predicted token) of the first and last step's batch. */
  public record Result(ModelProto model, double firstLoss, double lastLoss) {}

  public static Result run(ModelProto model, List<int[]> calibration, int steps, double lr, long seed,
      SessionLoader loader, Path work, Progress progress) throws IOException {
    OnnxGraph g = new OnnxGraph(model);
    Set<String> names = new LinkedHashSet<>();
    for (NodeProto n : g.nodes()) {
      if (n.getOpType().equals("MatMul") && g.initializer(n.getInput(1))
          .filter(t -> t.getDataType() == FloatTensors.FLOAT && t.getDimsCount() == 2).isPresent()) {
        names.add(n.getInput(1));
      }
    }
    List<String> weights = List.copyOf(names);
    ModelProto backward = BackwardGraph.build(CausalLmLoss.add(GatedCopy.of(model, weights, List.of()), "logits"),
        CausalLmLoss.LOGPROB_SUM, weights);
    Path file = work.resolve("fine-tune.onnx");
    ModelFileWriter.write(backward, file, false);
    Map<String, float[]> w = new HashMap<>();
    Map<String, long[]> dims = new HashMap<>();
    for (String name : weights) {
      TensorProto t = g.initializer(name).orElseThrow();
      FloatBuffer v = FloatTensors.values(t);
      float[] a = new float[v.remaining()];
      v.get(a);
      w.put(name, a);
      dims.put(name, t.getDimsList().stream().mapToLong(Long::longValue).toArray());
    }
    Map<String, float[]> m1 = new HashMap<>();
    Map<String, float[]> m2 = new HashMap<>();
    weights.forEach(n -> {
      m1.put(n, new float[w.get(n).length]);
      m2.put(n, new float[w.get(n).length]);
    });
    double first = Double.NaN;
    double last = Double.NaN;
    try (ModelSession s = loader.load("fine-tune/1", file)) {
      List<Map<String, Tensor>> batches = LossProbe.batches(s, calibration, MICRO_BATCH, true);
      long[] tokens = tokensPerBatch(calibration);
      Set<String> outputs = new LinkedHashSet<>();
      outputs.add(CausalLmLoss.LOGPROB_SUM);
      weights.forEach(n -> outputs.add(BackwardGraph.gradName(n)));
      SplittableRandom rng = new SplittableRandom(seed);
      int[] order = new int[0];
      for (int step = 0; step < steps; step++) {
        if (step % batches.size() == 0) {
          order = shuffled(batches.size(), rng);
        }
        int b = order[step % batches.size()];
        Map<String, Tensor> in = new HashMap<>(batches.get(b));
        weights.forEach(n -> in.put(n, Tensor.fp32(n, dims.get(n), w.get(n))));
        Map<String, Tensor> out = s.run(in, outputs);
        double loss = -out.get(CausalLmLoss.LOGPROB_SUM).toFloatArray()[0] / tokens[b];
        first = step == 0 ? loss : first;
        last = loss;
        double c1 = 1 - Math.pow(0.9, step + 1);
        double c2 = 1 - Math.pow(0.999, step + 1);
        for (String n : weights) {
          float[] grad = out.get(BackwardGraph.gradName(n)).toFloatArray();
          float[] p = w.get(n);
          float[] a = m1.get(n);
          float[] v = m2.get(n);
          for (int i = 0; i < p.length; i++) {
            float gi = -grad[i] / tokens[b]; // ∂(−Σ log p / tokens)
            a[i] = 0.9f * a[i] + 0.1f * gi;
            v[i] = 0.999f * v[i] + 0.001f * gi * gi;
            p[i] -= (float) (lr * (a[i] / c1) / (Math.sqrt(v[i] / c2) + 1e-8));
          }
        }
        progress.report("training", (step + 1.0) / steps);
      }
    } finally {
      ModelFileWriter.delete(file);
    }
    GraphProto.Builder out = model.getGraph().toBuilder();
    for (int i = 0; i < out.getInitializerCount(); i++) {
      String n = out.getInitializer(i).getName();
      if (w.containsKey(n)) {
        out.setInitializer(i, FloatTensors.tensor(n, FloatTensors.FLOAT, w.get(n), dims.get(n)));
      }
    }
    return new Result(model.toBuilder().setGraph(out).build(), first, last);
  }

  /** Predicted tokens per micro-batch, batched as {@link LossProbe#batches} does (longest first). */
  private static long[] tokensPerBatch(List<int[]> calibration) {
    List<int[]> sorted = new ArrayList<>(calibration);
    sorted.sort(Comparator.comparingInt((int[] s) -> s.length).reversed());
    long[] t = new long[(sorted.size() + MICRO_BATCH - 1) / MICRO_BATCH];
    for (int i = 0; i < sorted.size(); i++) {
      t[i / MICRO_BATCH] += sorted.get(i).length - 1;
    }
    return t;
  }

  private static int[] shuffled(int n, SplittableRandom rng) {
    int[] a = new int[n];
    for (int i = 0; i < n; i++) {
      a[i] = i;
    }
    for (int i = n - 1; i > 0; i--) {
      int j = rng.nextInt(i + 1);
      int x = a[i];
      a[i] = a[j];
      a[j] = x;
    }
    return a;
  }
}
