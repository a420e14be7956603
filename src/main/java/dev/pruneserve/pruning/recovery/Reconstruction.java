package dev.pruneserve.pruning.recovery;

import dev.pruneserve.graph.FloatTensors;
import dev.pruneserve.graph.ModelBuilder;
import dev.pruneserve.graph.OnnxGraph;
import dev.pruneserve.graph.Reductions;
import dev.pruneserve.llm.KvDecoder;
import dev.pruneserve.onnx.proto.Onnx.GraphProto;
import dev.pruneserve.onnx.proto.Onnx.ModelProto;
import dev.pruneserve.onnx.proto.Onnx.NodeProto;
import dev.pruneserve.onnx.proto.Onnx.TensorProto;
import dev.pruneserve.onnx.proto.Onnx.ValueInfoProto;
import dev.pruneserve.pruning.Progress;
import dev.pruneserve.pruning.transformer.ChannelModules;
import dev.pruneserve.pruning.transformer.DecoderStructure;
import dev.pruneserve.pruning.transformer.HeadDiscovery;
import dev.pruneserve.pruning.transformer.HeadGroup;
import dev.pruneserve.pruning.transformer.Surgery;
import dev.pruneserve.repository.ModelFileWriter;
import dev.pruneserve.session.ModelSession;
import dev.pruneserve.session.SessionLoader;
import dev.pruneserve.tensor.Tensor;
import java.io.IOException;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Least-squares reconstruction of a pruned transformer (issue 22). Sequential by default
 * ({@link SequentialReconstruction}); the one-shot mode described here fits every projection from
 * the dense model's inputs at once: for each
 * projection that reads pruned channels — o_proj over the kept heads, down_proj / fc2 over the kept
 * MLP channels — its weights W' [K, D] and an intercept c [D] are re-fitted so that {@code X_K·W'
 * + c} matches the dense {@code X·W} on the calibration tokens, X taken from the dense model:
 * {@code [W'; c] = (ZᵀZ + λ·I)⁻¹ ZᵀX·W} with Z = [X_K, 1], computed from the Gram matrix XᵀX and
 * Σx accumulated in-graph (only [F, F] and [F] leave ONNX Runtime) and solved by {@link Ridge}.
 * λ is relative: {@code lambda × mean(diag(X_KᵀX_K))}. The intercept replaces FLAP's compensation
 * bias when there is one. A projection whose channels were all kept is left as it is, and so is
 * one with fewer than 2·(K + 1) calibration tokens (an underdetermined fit memorises the
 * calibration: MiniLM with 32 sentences lost agreement), reported as skipped. Kept
 * channels are found by matching the pruned weight's rows to the dense weight's (surgery copies
 * them). Single-threaded.
 */
public final class Reconstruction {
  private Reconstruction() {}

  /** What was re-fitted: each projection with its kept and dense input widths. */
  public record Result(ModelProto model, List<Map<String, Object>> projections) {}

  /**
   * Reconstructs the projections {@code settings} names, sequentially or one-shot.
   *
   * @param calibration token sequences (each with its BOS); {@code settings.samples} of them are used
   */
  public static Result transformer(ModelProto dense, ModelProto pruned, List<int[]> calibration,
      ReconstructSettings settings, SessionLoader loader, Path work, Progress progress) throws IOException {
    List<int[]> used = calibration.subList(0, settings.samplesFor(calibration.size(), false));
    if (settings.mode() == ReconstructSettings.Mode.ONE_SHOT) {
      return oneShot(dense, pruned, used, settings, loader, work, progress);
    }
    List<Projection> projections = changed(new OnnxGraph(dense), new OnnxGraph(pruned), settings.projections())
        .stream().map(w -> new Projection(Projection.Kind.MATMUL, w, null, true)).toList();
    return SequentialReconstruction.run(dense, pruned, projections, new SequentialReconstruction.Samples() {
      @Override
      public int size() {
        return used.size();
      }

      @Override
      public Map<String, Tensor> inputs(ModelSession session, int sample) {
        return KvDecoder.prefillInputs(session, used.get(sample));
      }
    }, settings.lambda(), loader, work, progress);
  }

  /** The o_proj / down_proj / fc2 weights {@code which} names that the pruned model reads narrower, in graph order. */
  static List<String> changed(OnnxGraph gd, OnnxGraph gp, ReconstructSettings.Projections which) {
    List<String> weights = new ArrayList<>();
    if (which.attention()) {
      for (HeadGroup b : HeadDiscovery.attentionBlocks(gd)) {
        weights.add(b.oWeight());
      }
    }
    if (which.mlp()) {
      ChannelModules.of(gd).forEach(m -> weights.add(m.readWeight()));
    }
    return SequentialReconstruction.inGraphOrder(gd, weights.stream().filter(w -> gp.initializer(w).isPresent()
        && gp.initializer(w).get().getDims(0) < gd.initializer(w).orElseThrow().getDims(0)).toList());
  }

  static Result oneShot(ModelProto dense, ModelProto pruned, List<int[]> calibration, ReconstructSettings settings,
      SessionLoader loader, Path work, Progress progress) throws IOException {
    double lambda = settings.lambda();
    OnnxGraph gd = new OnnxGraph(dense);
    List<String> changed = changed(gd, new OnnxGraph(pruned), settings.projections());
    if (changed.isEmpty()) {
      return new Result(pruned, List.of());
    }
    Map<String, double[]> gram = new HashMap<>();
    Map<String, double[]> sum = new HashMap<>();
    long tokens = gramStatistics(dense, gd, changed, calibration, loader, work.resolve("reconstruction-taps.onnx"),
        gram, sum, progress);
    ModelProto out = pruned;
    List<Map<String, Object>> report = new ArrayList<>();
    for (String w : changed) {
      TensorProto wd = gd.initializer(w).orElseThrow();
      TensorProto wp = new OnnxGraph(out).initializer(w).orElseThrow();
      int f = (int) wd.getDims(0);
      int d = (int) wd.getDims(1);
      int[] kept = keptRows(wd, wp);
      double[] g = gram.get(w);
      double[] s = sum.get(w);
      int k = kept.length;
      if (tokens < 2L * (k + 1)) { // fewer samples than twice the unknowns: the fit would memorise the calibration
        report.add(Map.of("weight", w, "kept", k, "of", f, "skipped", "calibration has " + tokens + " tokens; "
            + "reconstructing " + k + " inputs needs at least " + 2 * (k + 1)));
        continue;
      }
      int n = k + 1; // kept inputs and the intercept
      double[] a = new double[n * n];
      double diag = 0;
      for (int i = 0; i < k; i++) {
        for (int j = 0; j < k; j++) {
          a[i * n + j] = g[kept[i] * f + kept[j]];
        }
        a[i * n + k] = s[kept[i]];
        a[k * n + i] = s[kept[i]];
        diag += g[kept[i] * f + kept[i]] / k;
      }
      a[k * n + k] = tokens;
      FloatBuffer wv = FloatTensors.values(wd);
      double[] b = new double[n * d];
      for (int i = 0; i < k; i++) {
        int r = kept[i];
        for (int j = 0; j < f; j++) {
          double gij = g[r * f + j];
          if (gij != 0) {
            for (int c = 0; c < d; c++) {
              b[i * d + c] += gij * wv.get(j * d + c);
            }
          }
        }
      }
      for (int j = 0; j < f; j++) {
        for (int c = 0; c < d; c++) {
          b[k * d + c] += s[j] * wv.get(j * d + c);
        }
      }
      double[] x = Ridge.solve(a, b, n, d, lambda * diag, k);
      float[] nw = new float[k * d];
      float[] bias = new float[d];
      for (int i = 0; i < k * d; i++) {
        nw[i] = (float) x[i];
      }
      for (int c = 0; c < d; c++) {
        bias[c] = (float) x[k * d + c];
      }
      out = replace(out, w, FloatTensors.tensor(w, wp.getDataType(), nw, k, d));
      out = setBias(out, w, bias);
      report.add(Map.of("weight", w, "kept", k, "of", f));
    }
    return new Result(out, report);
  }

  /** Indices of the dense rows the pruned weight kept, in order (surgery copies rows exactly). */
  static int[] keptRows(TensorProto dense, TensorProto pruned) {
    int d = (int) dense.getDims(1);
    FloatBuffer a = FloatTensors.values(dense);
    FloatBuffer p = FloatTensors.values(pruned);
    int rows = (int) pruned.getDims(0);
    int[] kept = new int[rows];
    int next = 0;
    for (int r = 0; r < rows; r++) {
      while (next < dense.getDims(0) && !sameRow(a, next, p, r, d)) {
        next++;
      }
      if (next == dense.getDims(0)) {
        throw new IllegalStateException("row " + r + " of the pruned " + dense.getName() + " is no dense row");
      }
      kept[r] = next++;
    }
    return kept;
  }

  private static boolean sameRow(FloatBuffer a, int ra, FloatBuffer b, int rb, int d) {
    for (int c = 0; c < d; c++) {
      if (Float.floatToRawIntBits(a.get(ra * d + c)) != Float.floatToRawIntBits(b.get(rb * d + c))) {
        return false;
      }
    }
    return true;
  }

  private static ModelProto replace(ModelProto m, String name, TensorProto t) {
    GraphProto.Builder g = m.getGraph().toBuilder();
    for (int i = 0; i < g.getInitializerCount(); i++) {
      if (g.getInitializer(i).getName().equals(name)) {
        g.setInitializer(i, t);
      }
    }
    return m.toBuilder().setGraph(g).build();
  }

  /** The projection's added bias (FLAP's, named {@code <weight>.bias}) set to {@code bias}, or added. */
  private static ModelProto setBias(ModelProto m, String weight, float[] bias) {
    String name = weight + ".bias";
    if (new OnnxGraph(m).initializer(name).isPresent()) {
      int type = new OnnxGraph(m).initializer(name).get().getDataType();
      return replace(m, name, FloatTensors.tensor(name, type, bias, bias.length));
    }
    return Surgery.addBias(m, weight, bias);
  }

  /** Accumulates XᵀX [F, F] and Σx [F] of every projection's input over the calibration; returns the tokens. */
  private static long gramStatistics(ModelProto dense, OnnxGraph g, List<String> weights, List<int[]> calibration,
      SessionLoader loader, Path file, Map<String, double[]> gram, Map<String, double[]> sum, Progress progress)
      throws IOException {
    GraphProto.Builder b = dense.getGraph().toBuilder();
    long opset = Reductions.opset(dense);
    Set<String> outs = new LinkedHashSet<>();
    for (String w : weights) {
      String x = DecoderStructure.inputOf(g, w);
      long f = g.initializer(w).orElseThrow().getDims(0);
      String p = "gram." + w;
      b.addInitializer(TensorProto.newBuilder().setName(p + ".shape").setDataType(7).addDims(2).addInt64Data(-1)
          .addInt64Data(f));
      b.addNode(NodeProto.newBuilder().setOpType("Cast").setName(p + ".cast").addInput(x).addOutput(p + ".f32")
          .addAttribute(ModelBuilder.intAttr("to", FloatTensors.FLOAT)));
      b.addNode(NodeProto.newBuilder().setOpType("Reshape").setName(p + ".flat").addInput(p + ".f32").addInput(p
          + ".shape").addOutput(p + ".x"));
      b.addNode(NodeProto.newBuilder().setOpType("Transpose").setName(p + ".t").addInput(p + ".x").addOutput(p
          + ".xt"));
      b.addNode(NodeProto.newBuilder().setOpType("MatMul").setName(p + ".mm").addInput(p + ".xt").addInput(p + ".x")
          .addOutput(p + ".g"));
      b.addNode(Reductions.reduce("ReduceSum", p + ".x", p + ".s", new long[] {0}, false, opset, b));
      b.addOutput(ValueInfoProto.newBuilder().setName(p + ".g"));
      b.addOutput(ValueInfoProto.newBuilder().setName(p + ".s"));
      outs.add(p + ".g");
      outs.add(p + ".s");
    }
    ModelFileWriter.write(dense.toBuilder().setGraph(b).build(), file, false);
    long tokens = 0;
    try (ModelSession s = loader.load("reconstruction/1", file)) {
      int done = 0;
      for (int[] seq : calibration) {
        Map<String, Tensor> r = s.run(KvDecoder.prefillInputs(s, seq), outs);
        for (String w : weights) {
          accumulate(gram, w, r.get("gram." + w + ".g").toFloatArray());
          accumulate(sum, w, r.get("gram." + w + ".s").toFloatArray());
        }
        tokens += seq.length;
        progress.report("reconstructing", (double) ++done / calibration.size());
      }
    } finally {
      ModelFileWriter.delete(file);
    }
    return tokens;
  }

  private static void accumulate(Map<String, double[]> into, String key, float[] v) {
    double[] acc = into.computeIfAbsent(key, k -> new double[v.length]);
    for (int i = 0; i < v.length; i++) {
      acc[i] += v[i];
    }
  }
}
