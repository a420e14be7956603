package dev.pruneserve.pruning.recovery;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pruneserve.graph.FloatTensors;
import dev.pruneserve.graph.OnnxGraph;
import dev.pruneserve.llm.KvDecoder;
import dev.pruneserve.onnx.proto.Onnx.GraphProto;
import dev.pruneserve.onnx.proto.Onnx.ModelProto;
import dev.pruneserve.onnx.proto.Onnx.TensorProto;
import dev.pruneserve.pruning.Progress;
import dev.pruneserve.pruning.criteria.Criterion;
import dev.pruneserve.pruning.criteria.Pruner;
import dev.pruneserve.pruning.transformer.GatedMlpDiscovery;
import dev.pruneserve.pruning.transformer.MlpGroup;
import dev.pruneserve.pruning.transformer.Surgery;
import dev.pruneserve.runtime.OrtRuntime;
import dev.pruneserve.session.ModelSession;
import dev.pruneserve.testing.GeneratedDecoder;
import dev.pruneserve.testing.Stories15mModels;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.BitSet;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * One-shot reconstruction on the generated decoder: nothing removed changes nothing; a channel
 * that duplicates another (same gate and up columns) is removed and the dense logits come back to
 * 1e-4; on a real prune the reconstructed model is closer to dense on unseen sequences than the
 * pruned one; the ridge solver against a hand-solved system.
 */
class ReconstructionTest {
  @TempDir Path dir;

  @Test
  void ridgeSolvesAKnownSystem() {
    // [[4, 2], [2, 3]] x = [[2, 1], [1, 2]] → x = [[0.5, -0.125], [0, 0.75]]
    double[] x = Ridge.solve(new double[] {4, 2, 2, 3}, new double[] {2, 1, 1, 2}, 2, 2, 0, 2);
    assertArrayEquals(new double[] {0.5, -0.125, 0, 0.75}, x, 1e-12);
  }

  @Test
  void removingNothingChangesNothing() throws Exception {
    ModelProto dense = GeneratedDecoder.model(dir);
    Reconstruction.Result r = Reconstruction.oneShot(dense, dense, GeneratedDecoder.sequences(4, 1),
        settings(ReconstructSettings.Mode.ONE_SHOT, 1e-6), OrtRuntime.cpu(1), dir, Progress.NONE);
    assertSame(dense, r.model());
    assertTrue(r.projections().isEmpty());
    Reconstruction.Result s = Reconstruction.transformer(dense, dense, GeneratedDecoder.sequences(4, 1),
        settings(ReconstructSettings.Mode.SEQUENTIAL, 1e-6), OrtRuntime.cpu(1), dir, Progress.NONE);
    assertSame(dense, s.model());
  }

  @org.junit.jupiter.params.ParameterizedTest
  @org.junit.jupiter.params.provider.EnumSource(ReconstructSettings.Mode.class)
  void aDuplicatedChannelIsRemovedAndTheDenseOutputRecovered(ReconstructSettings.Mode mode) throws Exception {
    ModelProto base = GeneratedDecoder.model(dir);
    MlpGroup mlp = GatedMlpDiscovery.gatedMlps(new OnnxGraph(base)).get(1);
    // channel 5 of layer 1 becomes an exact copy of channel 2 (gate and up columns), so x_5 = x_2
    ModelProto dense = copyColumn(copyColumn(base, mlp.gateWeight(), 2, 5), mlp.upWeight(), 2, 5);
    BitSet drop = new BitSet();
    drop.set(5);
    OnnxGraph g = new OnnxGraph(dense);
    ModelProto pruned = Surgery.removeMlpChannels(g, GatedMlpDiscovery.gatedMlps(g), Map.of(1, drop));
    Reconstruction.Result r = Reconstruction.transformer(dense, pruned, GeneratedDecoder.sequences(8, 2), settings(
        mode, 1e-9), OrtRuntime.cpu(1), dir, Progress.NONE);
    assertEquals(1, r.projections().size());
    int[] seq = GeneratedDecoder.sequences(1, 99).get(0);
    float[] want = logits(dense, seq);
    float[] got = logits(r.model(), seq);
    float[] without = logits(pruned, seq);
    double worst = 0;
    double before = 0;
    for (int i = 0; i < want.length; i++) {
      worst = Math.max(worst, Math.abs(want[i] - got[i]));
      before = Math.max(before, Math.abs(want[i] - without[i]));
    }
    assertTrue(worst < 1e-4, "reconstructed max |Δlogit| " + worst + " (pruned: " + before + ")");
    assertTrue(before > 1e-2, "the removal mattered: " + before);
  }

  @org.junit.jupiter.params.ParameterizedTest
  @org.junit.jupiter.params.provider.EnumSource(ReconstructSettings.Mode.class)
  void aRealPruneGetsCloserToDense(ReconstructSettings.Mode mode) throws Exception {
    ModelProto dense = GeneratedDecoder.model(dir);
    ModelProto pruned = Pruner.prune(dense, new Pruner.Options(Criterion.MAGNITUDE_L2, 0.5, 0, 0, -1)).model();
    ModelProto rec = Reconstruction.transformer(dense, pruned, GeneratedDecoder.sequences(16, 3), settings(mode,
        1e-3), OrtRuntime.cpu(1), dir, Progress.NONE).model();
    double errPruned = 0;
    double errRec = 0;
    for (int[] seq : GeneratedDecoder.sequences(4, 77)) {
      float[] want = logits(dense, seq);
      float[] p = logits(pruned, seq);
      float[] q = logits(rec, seq);
      for (int i = 0; i < want.length; i++) {
        errPruned += (want[i] - p[i]) * (want[i] - p[i]);
        errRec += (want[i] - q[i]) * (want[i] - q[i]);
      }
    }
    assertTrue(errRec < 0.8 * errPruned, "squared logit error " + errRec + " vs " + errPruned);
  }

  @Test
  void everyMethodTakesItAsARecipeOption() throws Exception {
    ModelProto dense = GeneratedDecoder.model(dir);
    var recipe = dev.pruneserve.pruning.methods.RecipeParser.parse("magnitude-l2", 0.5, Map.of("reconstruct", "true"));
    assertTrue(recipe.needsTokens(), "reconstruction needs calibration even for a weight-only method");
    assertEquals(Map.of("mode", "sequential", "lambda", 1e-2), recipe.identity().get("reconstruct"));
    assertEquals(Map.of("mode", "one-shot", "lambda", 1e-2), dev.pruneserve.pruning.methods.RecipeParser.parse(
        "magnitude-l2", 0.5, Map.of("reconstruct", "true", "reconstruct-mode", "one-shot")).identity().get(
            "reconstruct"),
        "one-shot hashes as before the mode option: its variant ids stay");
    assertTrue(!dev.pruneserve.pruning.methods.PruneRecipe.of("magnitude-l2", 0.5).identity().containsKey(
        "reconstruct"), "absent when off: ids of earlier recipes stay");
    Pruner.Result r = dev.pruneserve.pruning.methods.PruneMethods.apply(dense, recipe, GeneratedDecoder.sequences(8, 4),
        OrtRuntime.cpu(1));
    assertEquals(6, ((List<?>) r.details().get("reconstructed")).size(), "3 o_proj + 3 down_proj re-fitted");
    var e = org.junit.jupiter.api.Assertions.assertThrows(dev.pruneserve.error.ServingException.class,
        () -> dev.pruneserve.pruning.methods.RecipeParser.parse("flap", 0.5, Map.of("reconstruct-lambda", "0.1")));
    assertTrue(e.getMessage().contains("needs --reconstruct true"), e.getMessage());
  }

  /**
   * Sequential inputs are the pruned model's: the last re-fitted projection (layer 2's down_proj)
   * holds the ridge solution, computed here in plain Java, of "kept inputs → dense output" where
   * both come from the dense MLP fed the reconstructed model's own stream before it (taken as a
   * plain extra graph output) — and it differs from the one-shot fit, which uses the dense stream.
   */
  @Test
  void sequentialFitsOnThePrunedModelsStream() throws Exception {
    ModelProto dense = GeneratedDecoder.model(dir);
    ModelProto pruned = Pruner.prune(dense, new Pruner.Options(Criterion.MAGNITUDE_L2, 0.5, 0, 0, -1)).model();
    List<int[]> calib = GeneratedDecoder.sequences(12, 5);
    double lambda = 1e-3;
    ModelProto rec = Reconstruction.transformer(dense, pruned, calib, settings(ReconstructSettings.Mode.SEQUENTIAL,
        lambda), OrtRuntime.cpu(1), dir, Progress.NONE).model();
    OnnxGraph gd = new OnnxGraph(dense);
    OnnxGraph gr = new OnnxGraph(rec);
    List<String> order = Reconstruction.changed(gd, new OnnxGraph(pruned), ReconstructSettings.Projections.BOTH);
    String last = order.get(order.size() - 1);
    var mm = gd.nodes().stream().filter(n -> n.getOpType().equals("MatMul") && n.getInput(1).equals(last)).findFirst()
        .orElseThrow();
    String stream = ResidualChain.of(gd, mm.getOutput(0)).orElseThrow().residual();
    String prunedStream = ResidualChain.of(gr, Projection.reader(gr, last).orElseThrow().getOutput(0)).orElseThrow()
        .residual();
    int[] kept = Reconstruction.keptRows(gd.initializer(last).orElseThrow(), new OnnxGraph(pruned).initializer(last)
        .orElseThrow());
    int k = kept.length;
    int f = (int) gd.initializer(last).orElseThrow().getDims(0);
    int d = (int) gd.initializer(last).orElseThrow().getDims(1);
    ModelProto hybrid = fedStream(dense, stream, d, mm.getInput(0), mm.getOutput(0));
    LeastSquaresReference ref = new LeastSquaresReference(k, d);
    for (int[] seq : calib) {
      float[] h = activation(rec, prunedStream, seq);
      Map<String, dev.pruneserve.tensor.Tensor> out = runWithStream(hybrid, seq, h, d, mm.getInput(0), mm
          .getOutput(0));
      float[] x = out.get(mm.getInput(0)).toFloatArray();
      float[] z = new float[x.length / f * k];
      for (int t = 0; t < x.length / f; t++) {
        for (int i = 0; i < k; i++) {
          z[t * k + i] = x[t * f + kept[i]];
        }
      }
      ref.add(z, out.get(mm.getOutput(0)).toFloatArray());
    }
    double[] want = ref.solve(lambda);
    FloatBuffer got = FloatTensors.values(gr.initializer(last).orElseThrow());
    FloatBuffer bias = FloatTensors.values(gr.initializer(last + ".bias").orElseThrow());
    double worst = 0;
    double scale = 0;
    for (int i = 0; i < k * d; i++) {
      worst = Math.max(worst, Math.abs(want[i] - got.get(i)));
      scale = Math.max(scale, Math.abs(want[i]));
    }
    for (int c = 0; c < d; c++) {
      worst = Math.max(worst, Math.abs(want[k * d + c] - bias.get(c)));
    }
    assertTrue(worst < 1e-3 * scale, "max |ΔW| " + worst + " of " + scale);
    ModelProto oneShot = Reconstruction.transformer(dense, pruned, calib, settings(ReconstructSettings.Mode.ONE_SHOT,
        lambda), OrtRuntime.cpu(1), dir, Progress.NONE).model();
    FloatBuffer other = FloatTensors.values(new OnnxGraph(oneShot).initializer(last).orElseThrow());
    double apart = 0;
    for (int i = 0; i < k * d; i++) {
      apart = Math.max(apart, Math.abs(want[i] - other.get(i)));
    }
    assertTrue(apart > 100 * worst, "one-shot differs: " + apart + " vs " + worst);
  }

  /** {@code m} reading input "h" [1, T, d] wherever it read {@code stream}, with {@code outputs} added. */
  private static ModelProto fedStream(ModelProto m, String stream, int d, String... outputs) {
    GraphProto.Builder g = m.getGraph().toBuilder();
    for (var n : g.getNodeBuilderList()) {
      for (int j = 0; j < n.getInputCount(); j++) {
        if (n.getInput(j).equals(stream)) {
          n.setInput(j, "h");
        }
      }
    }
    g.addInput(dev.pruneserve.graph.ModelBuilder.valueInfo("h", 1, 1, "T", d));
    for (String o : outputs) {
      g.addOutput(dev.pruneserve.onnx.proto.Onnx.ValueInfoProto.newBuilder().setName(o));
    }
    return m.toBuilder().setGraph(g).build();
  }

  private Map<String, dev.pruneserve.tensor.Tensor> runWithStream(ModelProto m, int[] seq, float[] h, int d,
      String... outputs) throws Exception {
    try (ModelSession s = Stories15mModels.load(dir, m, "h" + System.nanoTime())) {
      Map<String, dev.pruneserve.tensor.Tensor> in = new java.util.HashMap<>(KvDecoder.prefillInputs(s, seq));
      in.put("h", dev.pruneserve.tensor.Tensor.fp32("h", new long[] {1, seq.length, d}, h));
      return s.run(in, java.util.Set.of(outputs));
    }
  }

  /** Plain-Java normal equations [Z, 1]ᵀ[Z, 1] and [Z, 1]ᵀY, ridge on the Z block only. */
  private static final class LeastSquaresReference {
    private final int k;
    private final int d;
    private final double[] a;
    private final double[] b;

    LeastSquaresReference(int k, int d) {
      this.k = k;
      this.d = d;
      a = new double[(k + 1) * (k + 1)];
      b = new double[(k + 1) * d];
    }

    void add(float[] z, float[] y) {
      int t = z.length / k;
      for (int r = 0; r < t; r++) {
        for (int i = 0; i <= k; i++) {
          double zi = i < k ? z[r * k + i] : 1;
          for (int j = 0; j <= k; j++) {
            a[i * (k + 1) + j] += zi * (j < k ? z[r * k + j] : 1);
          }
          for (int c = 0; c < d; c++) {
            b[i * d + c] += zi * y[r * d + c];
          }
        }
      }
    }

    double[] solve(double lambda) {
      double diag = 0;
      for (int i = 0; i < k; i++) {
        diag += a[i * (k + 1) + i] / k;
      }
      return Ridge.solve(a.clone(), b, k + 1, d, lambda * diag, k);
    }
  }

  private float[] activation(ModelProto m, String name, int[] seq) throws Exception {
    ModelProto out = m.toBuilder().setGraph(m.getGraph().toBuilder().addOutput(
        dev.pruneserve.onnx.proto.Onnx.ValueInfoProto.newBuilder().setName(name))).build();
    try (ModelSession s = Stories15mModels.load(dir, out, "a" + System.nanoTime())) {
      return s.run(KvDecoder.prefillInputs(s, seq), java.util.Set.of(name)).get(name).toFloatArray();
    }
  }

  private static ReconstructSettings settings(ReconstructSettings.Mode mode, double lambda) {
    return new ReconstructSettings(mode, ReconstructSettings.Projections.BOTH, lambda, 0);
  }

  private float[] logits(ModelProto m, int[] seq) throws Exception {
    try (ModelSession s = Stories15mModels.load(dir, m, "m" + System.nanoTime()); KvDecoder d = new KvDecoder(s)) {
      return d.step(seq);
    }
  }

  private static ModelProto copyColumn(ModelProto m, String name, int from, int to) {
    GraphProto.Builder g = m.getGraph().toBuilder();
    for (int i = 0; i < g.getInitializerCount(); i++) {
      TensorProto t = g.getInitializer(i);
      if (t.getName().equals(name)) {
        int cols = (int) t.getDims(1);
        FloatBuffer f = FloatTensors.values(t);
        float[] v = new float[f.remaining()];
        f.get(v);
        for (int r = 0; r < t.getDims(0); r++) {
          v[r * cols + to] = v[r * cols + from];
        }
        g.setInitializer(i, FloatTensors.tensor(name, t.getDataType(), v, t.getDims(0), cols));
      }
    }
    return m.toBuilder().setGraph(g).build();
  }

}
