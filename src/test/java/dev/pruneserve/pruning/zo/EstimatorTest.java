package dev.pruneserve.pruning.zo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pruneserve.eval.TokenFiles;
import dev.pruneserve.graph.OnnxGraph;
import dev.pruneserve.onnx.proto.Onnx.ModelProto;
import dev.pruneserve.pruning.Progress;
import dev.pruneserve.pruning.calibration.Calibration;
import dev.pruneserve.pruning.taylor.TaylorLlm;
import dev.pruneserve.pruning.transformer.GatedMlpDiscovery;
import dev.pruneserve.pruning.transformer.HeadDiscovery;
import dev.pruneserve.pruning.transformer.HeadGroup;
import dev.pruneserve.pruning.transformer.MlpGroup;
import dev.pruneserve.runtime.OrtRuntime;
import dev.pruneserve.testing.Fixtures;
import dev.pruneserve.testing.GeneratedDecoder;
import dev.pruneserve.testing.Stories15mModels;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * MINI-LLM's estimator pinned to true gradients (backward graphs): Eq. 9 fed the exact ∂L/∂W
 * reproduces the reference's {@code fms_exact_grad} scores on stories15M; on a generated decoder
 * every SPSA projection c_i equals zᵢᵀ∇L for the direction the sweep regenerates (so a mismatch
 * between the perturbation's z and the sweep's z fails here), and cos(ĝ, ∇L) clears the bound
 * that √(q/(q + D)) predicts.
 */
class EstimatorTest {
  @TempDir Path dir;

  private record Setup(OnnxGraph graph, List<ScoredTensor> tensors, List<float[]> weights, List<double[]> grads,
      int[] heads, int[] channels) {}

  private Setup setup(ModelProto dense, List<int[]> calib) throws Exception {
    OnnxGraph g = new OnnxGraph(dense);
    List<HeadGroup> blocks = HeadDiscovery.attentionBlocks(g);
    List<MlpGroup> mlps = GatedMlpDiscovery.gatedMlps(g);
    List<ScoredTensor> tensors = ScoredTensor.of(g, blocks, mlps);
    Map<String, double[]> grad = TaylorLlm.gradients(dense, tensors.stream().map(ScoredTensor::name).toList(), calib,
        OrtRuntime.cpu(2), dir, Progress.NONE);
    return new Setup(g, tensors, tensors.stream().map(t -> t.values(g)).toList(),
        tensors.stream().map(t -> grad.get(t.name())).toList(),
        blocks.stream().mapToInt(HeadGroup::units).toArray(), mlps.stream().mapToInt(MlpGroup::width).toArray());
  }

  @Test
  void exactGradientsInEquation9GiveTheReferenceScores() throws Exception {
    JsonNode ref = new ObjectMapper().readTree(Fixtures.stories15mData("reference-scores.json").toFile())
        .get("fms_exact_grad");
    List<int[]> calib = TokenFiles.stories(Fixtures.stories15mData("calib_ids.json"));
    ModelProto dense = Stories15mModels.dense();
    Setup s = setup(dense, calib);
    List<String> values = s.tensors().stream().map(ScoredTensor::input).distinct().toList();
    Calibration.Stats stats = Calibration.run(dense, values, calib, OrtRuntime.cpu(2), dir.resolve("stats.onnx"));
    List<FmsScores.Activation> acts = new ArrayList<>();
    for (ScoredTensor t : s.tensors()) {
      int k = values.indexOf(t.input());
      acts.add(new FmsScores.Activation(stats.sumSquares()[k], stats.mean(k)));
    }
    FmsScores.Scores fms = FmsScores.exact(s.tensors(), s.weights(), s.grads(), acts, FmsScores.Variant.A,
        FmsScores.Reduction.SUM, s.heads(), s.channels());
    for (int l = 0; l < 6; l++) {
      close(ref.get("heads").get(l), fms.heads()[l], "heads " + l);
      close(ref.get("mlp").get(l), fms.channels()[l], "mlp " + l);
    }
  }

  @Test
  void spsaProjectionsAreTheTrueDirectionalDerivatives() throws Exception {
    ModelProto dense = GeneratedDecoder.model(dir);
    List<int[]> calib = GeneratedDecoder.sequences(8, 3);
    int q = 256;
    MiniLlm.Options o = MiniLlm.Options.defaults(0.5).withSettings(MiniLlm.Settings.of("weights", q, 0, "", "", "",
        "", 0));
    MiniLlm.Outcome out = MiniLlm.prune(dense, o, calib, OrtRuntime.cpu(2), dir, Progress.NONE);
    Setup s = setup(dense, calib);
    CounterRng rng = new CounterRng(o.seed(), o.settings().law());
    double[] projection = new double[q];
    long d = 0;
    double gg = 0;
    for (int t = 0; t < s.tensors().size(); t++) {
      double[] g = s.grads().get(t);
      d += g.length;
      for (double v : g) {
        gg += v * v;
      }
      for (int i = 0; i < q; i++) {
        long stream = rng.stream(i, s.tensors().get(t).id());
        for (int k = 0; k < g.length; k++) {
          projection[i] += rng.z(stream, k) * g[k];
        }
      }
    }
    double[] c = out.c();
    assertEquals(q, c.length);
    // c_i = (L(w + εz) − L(w − εz)) / 2ε = zᵀ∇L + O(ε²): slope 1 and correlation ~1, not merely a sign
    double slope = dot(c, projection) / dot(projection, projection);
    double corr = dot(c, projection) / Math.sqrt(dot(c, c) * dot(projection, projection));
    assertEquals(1.0, slope, 0.01, "c against zᵀ∇L"); // measured 0.99993
    assertTrue(corr > 0.999, "correlation " + corr);
    // ĝ = (1/q) Σ c_i z_i: E cos(ĝ, ∇L) ≈ √(q / (q + D)) for Gaussian z (0.082 here; measured 0.083)
    double gHatG = 0;
    double gHatGHat = 0;
    for (int t = 0; t < s.tensors().size(); t++) {
      double[] g = s.grads().get(t);
      long[] streams = new long[q];
      for (int i = 0; i < q; i++) {
        streams[i] = rng.stream(i, s.tensors().get(t).id());
      }
      for (int k = 0; k < g.length; k++) {
        double e = 0;
        for (int i = 0; i < q; i++) {
          e += c[i] * rng.z(streams[i], k);
        }
        e /= q;
        gHatG += e * g[k];
        gHatGHat += e * e;
      }
    }
    double cos = gHatG / Math.sqrt(gHatGHat * gg);
    double expected = Math.sqrt((double) q / (q + d));
    assertTrue(cos > 0.75 * expected && cos < 1.5 * expected,
        "cos(ĝ, ∇L) = " + cos + ", √(q/(q+D)) = " + expected + " for D = " + d);
  }

  private static double dot(double[] a, double[] b) {
    double s = 0;
    for (int i = 0; i < a.length; i++) {
      s += a[i] * b[i];
    }
    return s;
  }

  private static void close(JsonNode expected, double[] got, String what) {
    assertEquals(expected.size(), got.length, what);
    for (int i = 0; i < got.length; i++) {
      double e = expected.get(i).asDouble();
      assertEquals(e, got[i], 1e-3 * Math.abs(e), what + " [" + i + "]");
    }
  }
}
