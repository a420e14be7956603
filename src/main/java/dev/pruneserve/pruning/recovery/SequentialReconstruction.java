package dev.pruneserve.pruning.recovery;

import dev.pruneserve.graph.OnnxGraph;
import dev.pruneserve.onnx.proto.Onnx.ModelProto;
import dev.pruneserve.pruning.Progress;
import dev.pruneserve.repository.ModelFileWriter;
import dev.pruneserve.session.ModelSession;
import dev.pruneserve.session.SessionLoader;
import dev.pruneserve.tensor.DataType;
import dev.pruneserve.tensor.Tensor;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Sequential least-squares reconstruction (issue 22, "A Free Lunch in LLM Compression" style): the
 * projections are re-fitted one at a time in graph order; each one's input rows come from the
 * pruned model as reconstructed so far (so earlier errors are corrected, not accumulated) and its
 * target rows from the dense model, on the same calibration samples. Per projection: a cut copy of
 * each model ({@link TapModel}) is loaded, every sample runs through both, the normal equations
 * are summed ({@link LeastSquares}) and the solution written back ({@link Refit}). Peak memory:
 * the two cut copies and one sample's activations. Reports phase {@code reconstructing} after
 * every sample, so a cancellation stops it within one sample. Single-threaded.
 */
public final class SequentialReconstruction {
  /** Output positions per sample a Conv contributes, at most (every s-th position per axis). */
  static final int POSITIONS = 256;

  private SequentialReconstruction() {}

  /** The calibration samples: how many, and the inputs of sample i for a session of a tap model. */
  public interface Samples {
    int size();

    Map<String, Tensor> inputs(ModelSession session, int sample);
  }

  /**
   * @param projections in graph order; each names a weight of both models
   * @param lambda ridge λ relative to the mean diagonal of ZᵀZ
   * @return the reconstructed model and one report entry per projection (re-fitted or skipped, why)
   */
  public static Reconstruction.Result run(ModelProto dense, ModelProto pruned, List<Projection> projections,
      Samples samples, double lambda, SessionLoader loader, Path work, Progress progress) throws IOException {
    List<Map<String, Object>> report = new ArrayList<>();
    ModelProto out = pruned;
    try (ModelSession products = LeastSquares.open(loader, work.resolve("reconstruction-products.onnx"))) {
      for (int i = 0; i < projections.size(); i++) {
        Projection p = projections.get(i);
        if (p.streamTarget()) { // both models must show where the block joins the stream
          p = p.withStreamTarget(stream(dense, p) && stream(out, p));
        }
        Map<String, Object> entry = new LinkedHashMap<>();
        entry.put("weight", p.weight());
        entry.put("kind", p.kind().name().toLowerCase(java.util.Locale.ROOT));
        entry.put("target", p.streamTarget() ? "residual stream" : "output");
        String problem = Refit.problem(out, p).orElse(null);
        if (problem != null) {
          entry.put("skipped", problem);
          report.add(entry);
          continue;
        }
        int done = i;
        LeastSquares ls = fit(dense, out, p, samples, loader, work, products, entry, f -> progress.report(
            "reconstructing", (done + f) / projections.size()));
        if (!ls.determined()) {
          entry.put("skipped", "calibration gives " + ls.rows() + " rows; re-fitting " + entry.get("inputs")
              + " inputs needs at least " + 2 * ((int) entry.get("inputs") + 1));
        } else {
          out = Refit.apply(out, p, ls.solve(lambda), (int) entry.get("inputs"), (int) entry.get("outputs"));
        }
        report.add(entry);
      }
    }
    progress.report("reconstructing", 1);
    return new Reconstruction.Result(out, report);
  }

  private static LeastSquares fit(ModelProto dense, ModelProto pruned, Projection p, Samples samples,
      SessionLoader loader, Path work, ModelSession products, Map<String, Object> entry,
      java.util.function.DoubleConsumer progress) throws IOException {
    try (ModelSession y = load(TapModel.outputs(dense, p), loader, work.resolve("reconstruction-targets.onnx"));
        ModelSession z = load(TapModel.inputs(pruned, p), loader, work.resolve("reconstruction-inputs.onnx"))) {
      Tensor steps = steps(y, samples);
      LeastSquares ls = null;
      for (int s = 0; s < samples.size(); s++) {
        Map<String, Tensor> zr = z.run(feed(z, samples, s, steps), p.streamTarget() ? Set.of(TapModel.ROWS,
            TapModel.RESIDUAL) : Set.of(TapModel.ROWS));
        Tensor zs = zr.get(TapModel.ROWS);
        Map<String, Tensor> yin = feed(y, samples, s, steps);
        if (p.streamTarget()) { // the dense block on the pruned model's stream
          Tensor r = zr.get(TapModel.RESIDUAL);
          yin.put(TapModel.STREAM, new Tensor(TapModel.STREAM, r.type(), r.shape(), r.data(), null));
        }
        Tensor ys = y.run(yin, Set.of(TapModel.ROWS)).get(TapModel.ROWS);
        if (ls == null) {
          ls = new LeastSquares((int) zs.shape()[1], (int) ys.shape()[1]);
          entry.put("inputs", (int) zs.shape()[1]);
          entry.put("outputs", (int) ys.shape()[1]);
          if (steps != null) {
            entry.put("position_step", steps.dataView().getLong(0));
          }
        }
        ls.add(products, zs, ys);
        progress.accept((s + 1.0) / samples.size());
      }
      entry.put("rows", ls.rows());
      return ls;
    }
  }

  private static boolean stream(ModelProto m, Projection p) {
    OnnxGraph g = new OnnxGraph(m);
    return ResidualChain.of(g, Projection.reader(g, p.weight()).orElseThrow().getOutput(0)).isPresent();
  }

  private static ModelSession load(ModelProto m, SessionLoader loader, Path file) throws IOException {
    ModelFileWriter.write(m, file, false);
    try {
      return loader.load("reconstruction/1", file);
    } finally {
      ModelFileWriter.delete(file);
    }
  }

  private static Map<String, Tensor> feed(ModelSession s, Samples samples, int i, Tensor steps) {
    Map<String, Tensor> in = new HashMap<>(samples.inputs(s, i));
    if (steps != null) {
      in.put(TapModel.STEPS, steps);
    }
    return in;
  }

  /**
   * For a Conv tap: the step per spatial axis that leaves at most {@link #POSITIONS} output
   * positions per sample, from the output shape of the first sample; null for other taps.
   */
  private static Tensor steps(ModelSession targets, Samples samples) {
    if (targets.inputs().stream().noneMatch(t -> t.name().equals(TapModel.STEPS))) {
      return null;
    }
    int rank = (int) targets.inputs().stream().filter(t -> t.name().equals(TapModel.STEPS)).findFirst().orElseThrow()
        .shape()[0];
    Tensor ones = longs(rank, 1);
    Map<String, Tensor> in = new HashMap<>(samples.inputs(targets, 0));
    in.put(TapModel.STEPS, ones);
    ByteBuffer shape = targets.run(in, Set.of(TapModel.SHAPE)).get(TapModel.SHAPE).dataView();
    double positions = 1;
    for (int a = 0; a < rank; a++) {
      positions *= shape.getLong((2 + a) * 8);
    }
    long step = Math.max(1, (long) Math.ceil(Math.pow(positions / POSITIONS, 1.0 / rank)));
    return longs(rank, step);
  }

  private static Tensor longs(int n, long v) {
    ByteBuffer b = ByteBuffer.allocate(n * 8).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < n; i++) {
      b.putLong(v);
    }
    b.flip();
    return Tensor.fixed(TapModel.STEPS, DataType.INT64, new long[] {n}, b);
  }

  /** {@code weights} in the order their readers appear in {@code g} (graph order = data order). */
  static List<String> inGraphOrder(OnnxGraph g, List<String> weights) {
    List<String> sorted = new ArrayList<>(weights);
    Map<String, Integer> at = new HashMap<>();
    for (int i = 0; i < g.nodes().size(); i++) {
      for (String in : g.nodes().get(i).getInputList()) {
        at.putIfAbsent(Projection.source(g, in), i);
      }
    }
    sorted.sort(java.util.Comparator.comparingInt(w -> at.getOrDefault(w, Integer.MAX_VALUE)));
    return sorted;
  }
}
