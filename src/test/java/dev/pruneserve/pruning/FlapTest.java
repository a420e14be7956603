package dev.pruneserve.pruning;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pruneserve.eval.LmQuality;
import dev.pruneserve.eval.TokenFiles;
import dev.pruneserve.onnx.proto.Onnx.ModelProto;
import dev.pruneserve.pruning.criteria.Flap;
import dev.pruneserve.runtime.OrtRuntime;
import dev.pruneserve.session.ModelSession;
import dev.pruneserve.testing.Fixtures;
import dev.pruneserve.testing.Stories15mModels;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * FLAP on stories15M against the independent reference (quality-reference.md, reference-scores.json):
 * standardised head and channel scores, the global threshold, kept masks for `all` at p = 0.2 / 0.5
 * and the layers 1–4 variant, and the pruned perplexity with bias compensation at p = 0.5.
 */
class FlapTest {
  @TempDir Path dir;

  @Test
  void flapMatchesTheReference() throws Exception {
    JsonNode ref = new ObjectMapper().readTree(Fixtures.stories15mData("reference-scores.json").toFile());
    List<int[]> calib = TokenFiles.stories(Fixtures.stories15mData("calib_ids.json"));
    ModelProto dense = Stories15mModels.dense();
    OrtRuntime rt = OrtRuntime.cpu(1);
    Flap.Outcome low = Flap.prune(dense, Flap.Options.defaults(0.2), calib, rt, dir);
    JsonNode std = ref.get("flap_std_metric");
    for (int l = 0; l < 6; l++) {
      close(std.get("heads").get(l), low.headScores().get(l), "heads " + l);
      close(std.get("mlp").get(l), low.mlpScores().get(l), "mlp " + l);
    }
    assertEquals(-0.261477, low.threshold(), 1e-5);
    assertKept(ref.get("flap").get("all_p0.2_mask"), low);
    assertEquals(List.of(6, 6, 6, 4, 3, 4), low.result().headsPerLayer());

    Flap.Outcome half = Flap.prune(dense, Flap.Options.defaults(0.5), calib, rt, dir);
    assertEquals(-0.0819473, half.threshold(), 1e-5);
    assertKept(ref.get("flap").get("all_p0.5_mask"), half);
    assertEquals(List.of(3, 3, 2, 3, 3, 3), half.result().headsPerLayer());

    Flap.Outcome mid = Flap.prune(dense, new Flap.Options(0.5, Flap.Metric.WIFV, Flap.Structure.AL_AM, true, 1, 5),
        calib, rt, dir);
    assertEquals(-0.0677718, mid.threshold(), 1e-5);
    assertKept(ref.get("flap_layers1-4").get("mid_p0.5_mask"), mid);

    int[] stories = TokenFiles.storiesStream(Fixtures.stories15mData("eval_ids.json"));
    try (ModelSession d = Stories15mModels.load(dir, dense, "dense");
        ModelSession p = Stories15mModels.load(dir, half.result().model(), "flap")) {
      LmQuality.Result q = LmQuality.evaluate(p, d, stories, 128);
      assertEquals(60.79, q.perplexity(), 60.79 * 1e-3, "PPL stories, FLAP p=0.5");
      assertEquals(2.8047, q.kl(), 2.8047 * 1e-3, "KL");
      assertEquals(0.2792, q.top1(), 0.2792 * 1e-3 + 1e-4, "top-1");
    }
  }

  private static void assertKept(JsonNode mask, Flap.Outcome o) {
    for (int l = 0; l < 6; l++) {
      for (int i = 0; i < 6; i++) {
        boolean removed = o.removedHeads().containsKey(l) && o.removedHeads().get(l).get(i);
        assertEquals(mask.get("heads_kept").get(l).get(i).asInt() == 1, !removed, "head " + i + " layer " + l);
      }
      for (int i = 0; i < 768; i++) {
        boolean removed = o.removedChannels().containsKey(l) && o.removedChannels().get(l).get(i);
        assertEquals(mask.get("mlp_kept").get(l).get(i).asInt() == 1, !removed, "channel " + i + " layer " + l);
      }
    }
  }

  /** Standardised scores are O(1) and cross zero: 1e-4 relative to max(|expected|, 1). */
  private static void close(JsonNode expected, double[] got, String what) {
    assertEquals(expected.size(), got.length, what);
    for (int i = 0; i < got.length; i++) {
      double e = expected.get(i).asDouble();
      assertEquals(e, got[i], 1e-4 * Math.max(1, Math.abs(e)), what + "[" + i + "]");
    }
  }
}
