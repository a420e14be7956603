package dev.pruneserve.grad;

import dev.pruneserve.graph.ModelBuilder;
import dev.pruneserve.onnx.proto.Onnx.GraphProto;
import dev.pruneserve.onnx.proto.Onnx.ModelProto;
import dev.pruneserve.onnx.proto.Onnx.TensorProto;
import dev.pruneserve.pruning.calibration.CausalLmLoss;
import dev.pruneserve.pruning.zo.LossProbe;
import dev.pruneserve.runtime.OrtRuntime;
import dev.pruneserve.session.ModelSession;
import dev.pruneserve.tensor.Tensor;
import dev.pruneserve.testing.GeneratedDecoder;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * End to end on a transformer: the backward graph of a {@link GeneratedDecoder} with the in-graph
 * causal-LM loss (RMSNorm, RoPE, KV concat, causal softmax attention, SwiGLU, chunked log-sum-exp),
 * run by ONNX Runtime on padded micro-batches, against Richardson-extrapolated central differences
 * of the same loss (per-token log-probabilities summed in float64), for weights of every kind
 * (embedding, q/k/v/o, gate/up/down): along the gradient's own direction within 1e-3 relative,
 * along a random direction within 1e-2 (a smaller signal against the float32 forward's noise).
 */
class DecoderGradientTest {
  @TempDir Path dir;

  @Test
  void decoderWeightGradientsMatchFiniteDifferences() throws Exception {
    check(CausalLmLoss.add(GeneratedDecoder.model(dir), "logits"), List.of("model.embed_tokens.weight",
        "model.layers.0.self_attn.q_proj.weight", "model.layers.1.self_attn.k_proj.weight",
        "model.layers.1.self_attn.v_proj.weight", "model.layers.2.self_attn.o_proj.weight",
        "model.layers.0.mlp.gate_proj.weight", "model.layers.1.mlp.up_proj.weight",
        "model.layers.2.mlp.down_proj.weight"), GeneratedDecoder.sequences(5, 2), 2e-2);
  }

  /** stories15M (real weights) on 4 calibration stories: a middle layer's attention and MLP weights. */
  @Test
  void stories15mGradientsMatchFiniteDifferences() throws Exception {
    List<int[]> calib = dev.pruneserve.eval.TokenFiles.stories(dev.pruneserve.testing.Fixtures.stories15mData(
        "calib_ids.json")).subList(0, 4);
    check(CausalLmLoss.add(dev.pruneserve.testing.Stories15mModels.dense(), "logits"), List.of(
        "model.layers.3.self_attn.q_proj.weight", "model.layers.3.self_attn.o_proj.weight",
        "model.layers.2.mlp.down_proj.weight"), calib, 2e-3);
  }

  /** {@code h}: finite-difference step along directions scaled to max |v| = 1. */
  private void check(ModelProto dense, List<String> wrt, List<int[]> calib, double h) throws Exception {
    Map<String, float[]> values = new HashMap<>();
    Map<String, long[]> dims = new HashMap<>();
    ModelProto fwd = asInputs(dense, wrt, values, dims);
    ModelProto bwd = BackwardGraph.build(fwd, CausalLmLoss.LOGPROB_SUM, wrt);
    // per-token log-probabilities out of the forward copy: the finite differences sum them in float64
    fwd = fwd.toBuilder().setGraph(fwd.getGraph().toBuilder().addOutput(
        dev.pruneserve.onnx.proto.Onnx.ValueInfoProto.newBuilder().setName("loss.logp"))).build();
    try (ModelSession f = load(fwd, "fwd"); ModelSession b = load(bwd, "bwd")) {
      List<Map<String, Tensor>> batches = LossProbe.batches(f, calib, 3, true);
      Map<String, double[]> grads = new HashMap<>();
      for (Map<String, Tensor> batch : batches) {
        Map<String, Tensor> in = new LinkedHashMap<>(batch);
        in.putAll(weights(values, dims));
        Map<String, Tensor> out = b.run(in, Set.copyOf(wrt.stream().map(BackwardGraph::gradName).toList()));
        for (String w : wrt) {
          float[] g = out.get(BackwardGraph.gradName(w)).toFloatArray();
          double[] acc = grads.computeIfAbsent(w, k -> new double[g.length]);
          for (int k = 0; k < g.length; k++) {
            acc[k] += g[k];
          }
        }
      }
      SplittableRandom rng = new SplittableRandom(17);
      for (String w : wrt) {
        double[] g = grads.get(w);
        double max = java.util.Arrays.stream(g).map(Math::abs).max().orElse(1);
        float[] along = new float[g.length]; // the gradient's own direction: the largest signal
        for (int k = 0; k < g.length; k++) {
          along[k] = (float) (g[k] / max);
        }
        check(f, batches, values, dims, w, g, along, 1e-3, h);
        // a random direction too (smaller signal, so float32 noise allows 1e-2 here)
        check(f, batches, values, dims, w, g, ModelBuilder.uniform(rng, g.length, 1.0), 1e-2, h);
      }
    }
  }

  private static void check(ModelSession f, List<Map<String, Tensor>> batches, Map<String, float[]> values,
      Map<String, long[]> dims, String w, double[] g, float[] v, double tolerance, double h) {
    // Richardson-extrapolated central differences: O(h⁴) truncation, so h can stay above float32 noise
    double dh = (sum(f, batches, values, dims, w, v, h) - sum(f, batches, values, dims, w, v, -h)) / (2 * h);
    double dh2 = (sum(f, batches, values, dims, w, v, h / 2) - sum(f, batches, values, dims, w, v, -h / 2)) / h;
    double numeric = (4 * dh2 - dh) / 3;
    Directional.assertDerivative(g, v, numeric, tolerance, 0, "d loss / d " + w + " (tolerance " + tolerance + ")");
  }

  /** Σ log p over all micro-batches with weight {@code w} moved by h·v. */
  private static double sum(ModelSession f, List<Map<String, Tensor>> batches, Map<String, float[]> values,
      Map<String, long[]> dims, String w, float[] v, double h) {
    Map<String, float[]> moved = new HashMap<>(values);
    float[] p = values.get(w).clone();
    for (int k = 0; k < p.length; k++) {
      p[k] += (float) (h * v[k]);
    }
    moved.put(w, p);
    double s = 0;
    for (Map<String, Tensor> batch : batches) {
      Map<String, Tensor> in = new LinkedHashMap<>(batch);
      in.putAll(weights(moved, dims));
      float[] logp = f.run(in, Set.of("loss.logp")).get("loss.logp").toFloatArray();
      float[] weight = batch.get(CausalLmLoss.WEIGHTS).toFloatArray();
      for (int k = 0; k < logp.length; k++) {
        s += (double) logp[k] * weight[k];
      }
    }
    return s;
  }

  static Map<String, Tensor> weights(Map<String, float[]> values, Map<String, long[]> dims) {
    Map<String, Tensor> m = new LinkedHashMap<>();
    values.forEach((k, v) -> m.put(k, Tensor.fp32(k, dims.get(k), v)));
    return m;
  }

  /** The same model with the named initializers moved to graph inputs (values and dims returned). */
  static ModelProto asInputs(ModelProto m, List<String> names, Map<String, float[]> values,
      Map<String, long[]> dims) {
    GraphProto.Builder g = m.getGraph().toBuilder();
    for (int i = g.getInitializerCount() - 1; i >= 0; i--) {
      TensorProto t = g.getInitializer(i);
      if (names.contains(t.getName())) {
        float[] v = new float[t.getRawData().size() / 4];
        t.getRawData().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(v);
        values.put(t.getName(), v);
        dims.put(t.getName(), t.getDimsList().stream().mapToLong(Long::longValue).toArray());
        g.removeInitializer(i);
        g.addInput(ModelBuilder.valueInfo(t.getName(), 1, t.getDimsList().toArray()));
      }
    }
    return m.toBuilder().setGraph(g).build();
  }

  private ModelSession load(ModelProto m, String name) throws Exception {
    Path f = Files.createTempFile(dir, name, ".onnx");
    Files.write(f, m.toByteArray());
    return OrtRuntime.cpu(1).load(name + "/1", f);
  }
}
