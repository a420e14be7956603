package dev.pruneserve.train;

import dev.pruneserve.grad.BackwardGraph;
import dev.pruneserve.onnx.proto.Onnx.GraphProto;
import dev.pruneserve.onnx.proto.Onnx.ModelProto;
import dev.pruneserve.onnx.proto.Onnx.TensorProto;
import dev.pruneserve.session.ModelSession;
import dev.pruneserve.session.SessionLoader;
import dev.pruneserve.tensor.DataType;
import dev.pruneserve.tensor.Tensor;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Trains an image classifier on ONNX Runtime through generated backward graphs: owns the current
 * parameters, SGD velocities, BatchNormalization running statistics and per-module input masks
 * (float32 arrays, all ones at first), and two sessions over {@link TrainingGraph}s — gradients
 * w.r.t. the parameters (training steps), and, opened on first use, w.r.t. the masks. Not
 * thread-safe; {@link #close} removes the temporary model files.
 */
public final class TrainingSession implements AutoCloseable {
  /** SGD with momentum and L2 weight decay, PyTorch semantics: v = μv + (g + λw); w −= lr·v. */
  public record Sgd(double momentum, double weightDecay) {}

  /** Mean loss and correct predictions of one batch (before the update). */
  public record Step(double loss, int correct) {}

  private final ModelProto inference;
  private final TrainingGraph graph;
  private final SessionLoader loader;
  private final Path work;
  private final ModelSession session;
  private ModelSession maskSession;
  private final Map<String, float[]> params = new LinkedHashMap<>();
  private final Map<String, float[]> velocity = new HashMap<>();
  private final Map<String, float[]> masks = new LinkedHashMap<>();
  private final Map<String, float[]> running = new HashMap<>();
  private final Map<String, ByteBuffer> buffers = new HashMap<>();
  private final int classes;
  private final List<Path> files = new ArrayList<>();

  private TrainingSession(ModelProto inference, TrainingGraph graph, SessionLoader loader, Path work)
      throws IOException {
    this.inference = inference;
    this.graph = graph;
    this.loader = loader;
    this.work = work;
    Map<String, TensorProto> init = new HashMap<>();
    inference.getGraph().getInitializerList().forEach(t -> init.put(t.getName(), t));
    for (TrainingGraph.Param p : graph.params()) {
      params.put(p.name(), floats(init.get(p.name())));
      velocity.put(p.name(), new float[p.size()]);
    }
    for (TrainingGraph.Mask m : graph.masks()) {
      float[] ones = new float[m.width()];
      Arrays.fill(ones, 1f);
      masks.put(m.name(), ones);
    }
    for (TrainingGraph.Norm n : graph.norms()) {
      running.put(n.runningMean(), floats(init.get(n.runningMean())));
      running.put(n.runningVar(), floats(init.get(n.runningVar())));
    }
    classes = (int) inference.getGraph().getOutput(0).getType().getTensorType().getShape().getDim(1).getDimValue();
    this.session = load(graph.model(), "params"); // last: nothing to release when it fails
  }

  /** Opens a session for {@code inference} (copied: the caller's model is not changed). */
  public static TrainingSession open(ModelProto inference, int batch, SessionLoader loader, Path work)
      throws IOException {
    return new TrainingSession(inference, TrainingGraph.build(inference, batch, TrainingGraph.Wrt.PARAMS), loader,
        work);
  }

  public TrainingGraph graph() {
    return graph;
  }

  public int batch() {
    return graph.batch();
  }

  /** The live parameter arrays by name (callers may read; writes change the model). */
  public Map<String, float[]> params() {
    return params;
  }

  /** The live mask arrays by mask name ({@link TrainingGraph.Mask}); 0 masks a module input channel. */
  public Map<String, float[]> masks() {
    return masks;
  }

  /**
   * One SGD step on images {@code order[from, from + batch)} of {@code data}: gradients at the
   * current parameters and masks, update, running statistics (momentum 0.1, unbiased variance).
   */
  public Step step(ImageSet data, int[] order, int from, double lr, Sgd sgd) {
    Map<String, Tensor> out = run(session, batchFeeds(data, order, from), params, masks, outputs(true));
    for (TrainingGraph.Param p : graph.params()) {
      float[] w = params.get(p.name());
      float[] v = velocity.get(p.name());
      float[] g = out.get(BackwardGraph.gradName(p.name())).toFloatArray();
      for (int k = 0; k < w.length; k++) {
        v[k] = (float) (sgd.momentum() * v[k] + g[k] + sgd.weightDecay() * w[k]);
        w[k] -= (float) (lr * v[k]);
      }
    }
    for (TrainingGraph.Norm n : graph.norms()) {
      blend(running.get(n.runningMean()), out.get(n.batchMean()).toFloatArray(), 1);
      blend(running.get(n.runningVar()), out.get(n.batchVar()).toFloatArray(), n.count() / (n.count() - 1.0));
    }
    return new Step(out.get(TrainingGraph.LOSS).toFloatArray()[0], correct(out.get(logits()), data, order, from));
  }

  /**
   * Re-estimates every BatchNormalization's running statistics from {@code batches} forward passes
   * over a seeded shuffle of {@code data} (wrapping around), with the current parameters and masks:
   * running mean = mean of the batch means, running variance = mean of the unbiased batch
   * variances (PyTorch's cumulative average, {@code momentum=None}). No parameter changes. Returns
   * the number of BN layers updated.
   */
  public int recalibrate(ImageSet data, int batches, long seed) {
    if (graph.norms().isEmpty()) {
      return 0;
    }
    if (data.size() < graph.batch()) {
      throw new IllegalArgumentException("BN recalibration needs at least one batch of " + graph.batch()
          + " images, got " + data.size());
    }
    Set<String> stats = new java.util.HashSet<>();
    graph.norms().forEach(n -> stats.addAll(List.of(n.batchMean(), n.batchVar())));
    Map<String, double[]> sums = new HashMap<>();
    int perShuffle = data.size() / graph.batch();
    int[] order = null;
    for (int b = 0; b < batches; b++) {
      if (b % perShuffle == 0) {
        order = data.shuffled(seed * 1_000_003L + 7_919L * (b / perShuffle) + 1);
      }
      Map<String, Tensor> out = run(session, batchFeeds(data, order, (b % perShuffle) * graph.batch()), params,
          masks, stats);
      for (TrainingGraph.Norm n : graph.norms()) {
        double unbias = n.count() / (n.count() - 1.0);
        accumulate(sums, n.runningMean(), out.get(n.batchMean()).toFloatArray(), 1);
        accumulate(sums, n.runningVar(), out.get(n.batchVar()).toFloatArray(), unbias);
      }
    }
    sums.forEach((name, sum) -> {
      float[] r = running.get(name);
      for (int c = 0; c < r.length; c++) {
        r[c] = (float) (sum[c] / batches);
      }
    });
    return graph.norms().size();
  }

  private static void accumulate(Map<String, double[]> sums, String name, float[] v, double scale) {
    double[] s = sums.computeIfAbsent(name, k -> new double[v.length]);
    for (int c = 0; c < v.length; c++) {
      s[c] += v[c] * scale;
    }
  }

  /** ∂loss/∂param for one batch at the current parameters and the given masks (no update). */
  public Map<String, float[]> paramGradients(Map<String, Tensor> batch, Map<String, float[]> atMasks) {
    Map<String, Tensor> out = run(session, batch, params, atMasks, outputs(false));
    Map<String, float[]> g = new LinkedHashMap<>();
    graph.params().forEach(p -> g.put(p.name(), out.get(BackwardGraph.gradName(p.name())).toFloatArray()));
    return g;
  }

  /** ∂loss/∂mask for one batch at the given parameters and the current masks, with the loss under "loss". */
  public Map<String, float[]> maskGradients(Map<String, Tensor> batch, Map<String, float[]> atParams)
      throws IOException {
    if (maskSession == null) {
      maskSession = load(TrainingGraph.build(inference, graph.batch(), TrainingGraph.Wrt.MASKS).model(), "masks");
    }
    Set<String> names = new java.util.HashSet<>(Set.of(TrainingGraph.LOSS));
    graph.masks().forEach(m -> names.add(BackwardGraph.gradName(m.name())));
    Map<String, Tensor> out = run(maskSession, batch, atParams, masks, names);
    Map<String, float[]> g = new LinkedHashMap<>();
    graph.masks().forEach(m -> g.put(m.name(), out.get(BackwardGraph.gradName(m.name())).toFloatArray()));
    g.put(TrainingGraph.LOSS, out.get(TrainingGraph.LOSS).toFloatArray());
    return g;
  }

  /** Images and labels of {@code order[from, from + batch)} as graph feeds. */
  public Map<String, Tensor> batchFeeds(ImageSet data, int[] order, int from) {
    int b = graph.batch();
    int s = data.imageSize();
    float[] x = new float[b * s];
    ByteBuffer labels = ByteBuffer.allocate(b * 8).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < b; i++) {
      int img = order[from + i];
      System.arraycopy(data.pixels(), img * s, x, i * s, s);
      labels.putLong(data.labels()[img]);
    }
    labels.flip();
    Map<String, Tensor> in = new LinkedHashMap<>();
    in.put(graph.images(), Tensor.fp32(graph.images(), new long[] {b, data.channels(), data.height(), data.width()},
        x));
    in.put(TrainingGraph.LABELS, Tensor.fixed(TrainingGraph.LABELS, DataType.INT64, new long[] {b, 1}, labels));
    return in;
  }

  /** The inference model with the current parameters and running statistics (masks not applied). */
  public ModelProto export() {
    GraphProto.Builder g = inference.getGraph().toBuilder();
    for (int i = 0; i < g.getInitializerCount(); i++) {
      TensorProto t = g.getInitializer(i);
      float[] v = params.containsKey(t.getName()) ? params.get(t.getName()) : running.get(t.getName());
      if (v != null) {
        ByteBuffer b = ByteBuffer.allocate(v.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(v);
        g.setInitializer(i, t.toBuilder().clearFloatData().setRawData(com.google.protobuf.ByteString.copyFrom(
            b.array())));
      }
    }
    return inference.toBuilder().setGraph(g).build();
  }

  private Map<String, Tensor> run(ModelSession s, Map<String, Tensor> batch, Map<String, float[]> p,
      Map<String, float[]> m, Set<String> outputs) {
    Map<String, Tensor> in = new LinkedHashMap<>(batch);
    graph.params().forEach(x -> in.put(x.name(), direct(x.name(), x.dims(), p.get(x.name()))));
    graph.masks().forEach(x -> in.put(x.name(), direct(x.name(), x.dims(), m.get(x.name()))));
    return s.run(in, outputs);
  }

  private Set<String> outputs(boolean withStats) {
    Set<String> names = new java.util.HashSet<>(Set.of(TrainingGraph.LOSS, logits()));
    graph.params().forEach(p -> names.add(BackwardGraph.gradName(p.name())));
    if (withStats) {
      graph.norms().forEach(n -> names.addAll(List.of(n.batchMean(), n.batchVar())));
    }
    return names;
  }

  private String logits() {
    return inference.getGraph().getOutput(0).getName();
  }

  /** A feed over a reused direct buffer (read in place by the runtime; rewritten only between runs). */
  private Tensor direct(String name, long[] dims, float[] v) {
    ByteBuffer b = buffers.computeIfAbsent(name, k -> ByteBuffer.allocateDirect(v.length * 4)
        .order(ByteOrder.nativeOrder()));
    b.clear();
    b.asFloatBuffer().put(v);
    return Tensor.fixed(name, DataType.FP32, dims, b.duplicate());
  }

  private int correct(Tensor logits, ImageSet data, int[] order, int from) {
    float[] z = logits.toFloatArray();
    int ok = 0;
    for (int i = 0; i < graph.batch(); i++) {
      ok += ImageSet.classOf(z, i, classes) == data.labels()[order[from + i]] ? 1 : 0;
    }
    return ok;
  }

  private static void blend(float[] run, float[] batch, double correction) {
    for (int c = 0; c < run.length; c++) {
      run[c] = (float) (0.9 * run[c] + 0.1 * batch[c] * correction);
    }
  }

  static float[] floats(TensorProto t) {
    if (t.getDataType() != 1) {
      throw new IllegalArgumentException(t.getName() + " is not FP32");
    }
    if (t.getFloatDataCount() > 0) {
      float[] v = new float[t.getFloatDataCount()];
      for (int i = 0; i < v.length; i++) {
        v[i] = t.getFloatData(i);
      }
      return v;
    }
    float[] v = new float[t.getRawData().size() / 4];
    t.getRawData().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(v);
    return v;
  }

  private ModelSession load(ModelProto m, String kind) throws IOException {
    Path file = work.resolve("train-" + kind + "-" + System.nanoTime() + ".onnx");
    dev.pruneserve.repository.ModelFileWriter.write(m, file, false);
    try {
      ModelSession s = loader.load("train-" + kind + "/1", file);
      files.add(file);
      return s;
    } catch (RuntimeException e) {
      dev.pruneserve.repository.ModelFileWriter.delete(file);
      throw e;
    }
  }

  @Override
  public void close() throws IOException {
    session.close();
    if (maskSession != null) {
      maskSession.close();
    }
    for (Path f : files) {
      Files.deleteIfExists(f);
    }
  }
}
