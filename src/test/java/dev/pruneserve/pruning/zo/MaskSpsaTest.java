package dev.pruneserve.pruning.zo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pruneserve.graph.OnnxGraph;
import dev.pruneserve.onnx.proto.Onnx.ModelProto;
import dev.pruneserve.pruning.Progress;
import dev.pruneserve.pruning.calibration.CausalLmLoss;
import dev.pruneserve.pruning.transformer.GatedMlpDiscovery;
import dev.pruneserve.pruning.transformer.HeadDiscovery;
import dev.pruneserve.pruning.transformer.HeadGroup;
import dev.pruneserve.pruning.transformer.MlpGroup;
import dev.pruneserve.runtime.OrtRuntime;
import dev.pruneserve.tensor.Tensor;
import dev.pruneserve.testing.GeneratedDecoder;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Zeroth-order estimates on a {@link GeneratedDecoder} against references: the loss probe (padded
 * micro-batches, weights as graph inputs, gates at 1) equals the in-graph loss of the untouched
 * model run one sequence at a time; the mask-space SPSA estimate converges to the central
 * finite-difference gradient of the loss in the gates; weight-space queries leave the pristine
 * weights and the dense loss exactly as they were.
 */
class MaskSpsaTest {
  @TempDir Path dir;

  @Test
  void probeLossEqualsTheUnbatchedLoss() throws Exception {
    ModelProto dense = GeneratedDecoder.model(dir);
    List<int[]> calib = GeneratedDecoder.sequences(10, 3);
    OrtRuntime rt = OrtRuntime.cpu(1);
    double reference = CausalLmLoss.meanCrossEntropy(dense, calib, rt, dir.resolve("ref.onnx"));
    OnnxGraph g = new OnnxGraph(dense);
    List<ScoredTensor> tensors = ScoredTensor.of(g, HeadDiscovery.attentionBlocks(g), GatedMlpDiscovery.gatedMlps(g));
    WeightSpsa w = new WeightSpsa(tensors, tensors.stream().map(t -> t.values(g)).toList());
    MaskSpsa m = masks(g);
    try (LossProbe probe = LossProbe.open(dense, tensors.stream().map(ScoredTensor::name).toList(), m.gates(), calib,
        4, rt, dir.resolve("probe.onnx"))) {
      Map<String, Tensor> feeds = new java.util.HashMap<>(w.feeds(null, 0, 0, 0));
      feeds.putAll(m.feeds(null, 0, 0, 0));
      double loss = probe.meanLoss(feeds);
      assertEquals(reference, loss, 1e-6 * reference);
      CounterRng rng = new CounterRng(5, CounterRng.Law.GAUSSIAN);
      Map<String, Tensor> moved = new java.util.HashMap<>(w.feeds(rng, 0, 1, 1e-3));
      moved.putAll(m.feeds(null, 0, 0, 0));
      assertTrue(probe.meanLoss(moved) != loss, "a perturbation moves the loss");
      feeds.putAll(w.feeds(null, 0, 0, 0)); // one perturbed copy: feeds are valid until the next call
      assertEquals(loss, probe.meanLoss(feeds), 0.0, "the pristine weights give the dense loss exactly again");
    }
    for (ScoredTensor t : tensors) {
      assertTrue(java.util.Arrays.equals(t.values(g), t.values(new OnnxGraph(dense))), "weights untouched");
    }
  }

  @Test
  void maskEstimateConvergesToFiniteDifferences() throws Exception {
    ModelProto dense = GeneratedDecoder.model(dir);
    List<int[]> calib = GeneratedDecoder.sequences(6, 4);
    OnnxGraph g = new OnnxGraph(dense);
    MaskSpsa m = masks(g);
    try (LossProbe probe = LossProbe.open(dense, List.of(), m.gates(), calib, 8, OrtRuntime.cpu(1),
        dir.resolve("probe.onnx"))) {
      CounterRng rng = new CounterRng(9, CounterRng.Law.GAUSSIAN);
      int q = 1500;
      double[] c = m.queries(probe, rng, q, 1e-3, Progress.NONE);
      double[] est = new double[0];
      double[] fd = new double[0];
      double[] estHeads = new double[0];
      double[] fdHeads = new double[0];
      for (int layer = 0; layer < GeneratedDecoder.LAYERS; layer++) {
        double[][] e = m.gradient(rng, c, layer);
        double[][] f = finiteDifferences(probe, m, layer, 1e-3);
        est = concat(est, e[0], e[1]);
        fd = concat(fd, f[0], f[1]);
        estHeads = concat(estHeads, e[0]);
        fdHeads = concat(fdHeads, f[0]);
      }
      // SPSA: Var ĝ_k ≈ (‖g‖² + g_k²)/q, so cos(ĝ, g) ≈ 1/sqrt(1 + (m + 1)/q) = 0.919 for m = 276, q = 1500
      double expected = 1 / Math.sqrt(1 + (est.length + 1.0) / q);
      assertEquals(276, est.length);
      assertEquals(expected, cosine(est, fd), 0.04, "all gates");
      assertTrue(cosine(estHeads, fdHeads) > 0.9, "heads carry most of the gradient: " + cosine(estHeads, fdHeads));
      // scale, not only direction: E ĝ = g, so the projection of ĝ on g is ‖g‖² (± ~3 % for this q)
      double slope = dot(est, fd) / dot(fd, fd);
      assertEquals(1.0, slope, 0.1, "ĝ·g / ‖g‖²");
    }
  }

  private static double[] concat(double[] a, double[]... more) {
    double[] out = a;
    for (double[] b : more) {
      double[] n = java.util.Arrays.copyOf(out, out.length + b.length);
      System.arraycopy(b, 0, n, out.length, b.length);
      out = n;
    }
    return out;
  }

  /** Central differences of the loss in each gate of one layer (heads, then channels). */
  private static double[][] finiteDifferences(LossProbe probe, MaskSpsa m, int layer, double h) {
    Map<String, Tensor> ones = m.feeds(null, 0, 0, 0);
    float[] heads = ones.get(MaskSpsa.headGate(layer)).toFloatArray();
    float[] channels = ones.get(MaskSpsa.channelGate(layer)).toFloatArray();
    int hd = GeneratedDecoder.DIM / GeneratedDecoder.HEADS;
    double[] gh = new double[GeneratedDecoder.HEADS];
    for (int u = 0; u < gh.length; u++) {
      gh[u] = central(probe, ones, MaskSpsa.headGate(layer), heads, u * hd, (u + 1) * hd, h);
    }
    double[] gc = new double[channels.length];
    for (int u = 0; u < gc.length; u++) {
      gc[u] = central(probe, ones, MaskSpsa.channelGate(layer), channels, u, u + 1, h);
    }
    return new double[][] {gh, gc};
  }

  private static double central(LossProbe probe, Map<String, Tensor> base, String gate, float[] ones, int from, int to,
      double h) {
    double[] l = new double[2];
    for (int s = 0; s < 2; s++) {
      float[] v = ones.clone();
      for (int i = from; i < to; i++) {
        v[i] = (float) (1 + (s == 0 ? h : -h));
      }
      Map<String, Tensor> feeds = new java.util.HashMap<>(base);
      feeds.put(gate, Tensor.fp32(gate, new long[] {v.length}, v));
      l[s] = probe.meanLoss(feeds);
    }
    return (l[0] - l[1]) / (2 * h);
  }

  private static MaskSpsa masks(OnnxGraph g) {
    List<HeadGroup> blocks = HeadDiscovery.attentionBlocks(g);
    List<MlpGroup> mlps = GatedMlpDiscovery.gatedMlps(g);
    return new MaskSpsa(blocks, mlps, List.of(0, 1, 2));
  }

  /** Cosine of two vectors (shared with the bench). */
  private static double dot(double[] a, double[] b) {
    double s = 0;
    for (int i = 0; i < a.length; i++) {
      s += a[i] * b[i];
    }
    return s;
  }

  static double cosine(double[] a, double[] b) {
    double ab = 0;
    double aa = 0;
    double bb = 0;
    for (int i = 0; i < a.length; i++) {
      ab += a[i] * b[i];
      aa += a[i] * a[i];
      bb += b[i] * b[i];
    }
    return ab / Math.sqrt(aa * bb);
  }
}
