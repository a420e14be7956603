package dev.pruneserve.pruning.zo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pruneserve.eval.TokenFiles;
import dev.pruneserve.onnx.proto.Onnx.ModelProto;
import dev.pruneserve.pruning.Progress;
import dev.pruneserve.runtime.OrtRuntime;
import dev.pruneserve.testing.Fixtures;
import dev.pruneserve.testing.Stories15mModels;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Faithful MINI-LLM (weight-space SPSA, q = 1) on stories15M against the independent reference
 * (quality-reference.md §4): the probe's dense calibration loss is 1.1217784 and is exactly the same
 * after the queries (pristine weights restored); the gradient-free limit Σ|W|·‖X‖ per group equals
 * the reference `wa_group` scores (1e-4 relative); FMS(q = 1) ranks heads like that limit and MLP
 * channels in the reference band (Spearman); local counts give 5 heads and 614 channels per layer.
 */
class MiniLlmTest {
  @TempDir Path dir;

  @Test
  void faithfulScoresOnStories15m() throws Exception {
    JsonNode ref = new ObjectMapper().readTree(Fixtures.stories15mData("reference-scores.json").toFile());
    List<int[]> calib = TokenFiles.stories(Fixtures.stories15mData("calib_ids.json"));
    ModelProto dense = Stories15mModels.dense();
    List<String> phases = new ArrayList<>();
    Progress progress = (phase, f) -> {
      if (phases.isEmpty() || !phases.get(phases.size() - 1).equals(phase)) {
        phases.add(phase);
      }
    };
    MiniLlm.Outcome o = MiniLlm.prune(dense, MiniLlm.Options.defaults(0.2), calib, OrtRuntime.cpu(2), dir, progress);
    Map<String, Object> d = o.diagnostics();
    assertEquals(List.of("calibrating", "querying", "scoring"), phases);
    assertEquals(1.1217784, (double) d.get("dense_loss"), 1e-5);
    assertEquals((double) d.get("dense_loss"), (double) d.get("dense_loss_after_queries"), 0.0);
    assertEquals(5_971_968L, d.get("perturbed_weights"));
    JsonNode wa = ref.get("wa_group");
    for (int l = 0; l < 6; l++) {
      close(wa.get("heads").get(l), o.limitHeadScores()[l], "heads " + l);
      close(wa.get("mlp").get(l), o.limitChannelScores()[l], "mlp " + l);
    }
    double heads = 0;
    double mlp = 0;
    for (Object m : (List<?>) d.get("spearman_vs_weight_activation")) {
      heads += (double) ((Map<?, ?>) m).get("heads_spearman_vs_wa") / 6;
      mlp += (double) ((Map<?, ?>) m).get("channels_spearman_vs_wa") / 6;
    }
    // reference (q = 1, three draws): heads 0.94–1.00, MLP 0.72 (per-layer means)
    assertTrue(heads > 0.8, "heads Spearman " + heads);
    assertTrue(mlp > 0.6 && mlp < 0.85, "MLP Spearman " + mlp);
    assertEquals(List.of(5, 5, 5, 5, 5, 5), o.result().headsPerLayer());
    assertEquals(List.of(614, 614, 614, 614, 614, 614), o.result().channelsPerLayer());
  }

  @Test
  void layersOfDifferentWidthsAreScoredByTheirOwnWidths() throws Exception {
    ModelProto dense = dev.pruneserve.testing.GeneratedDecoder.model(dir);
    var g = new dev.pruneserve.graph.OnnxGraph(dense);
    java.util.BitSet head = new java.util.BitSet();
    head.set(2);
    java.util.BitSet channels = new java.util.BitSet();
    channels.set(0, 30);
    ModelProto uneven = dev.pruneserve.pruning.transformer.Surgery.removeHeads(g,
        dev.pruneserve.pruning.transformer.HeadDiscovery.attentionBlocks(g), Map.of(0, head));
    var g2 = new dev.pruneserve.graph.OnnxGraph(uneven);
    uneven = dev.pruneserve.pruning.transformer.Surgery.removeMlpChannels(g2,
        dev.pruneserve.pruning.transformer.GatedMlpDiscovery.gatedMlps(g2), Map.of(0, channels)); // layer 0: 3 heads, 58 channels
    List<int[]> calib = dev.pruneserve.testing.GeneratedDecoder.sequences(4, 1);
    for (String mode : List.of("weights", "masks")) {
      MiniLlm.Options o = MiniLlm.Options.defaults(0.5).withSettings(MiniLlm.Settings.of(mode, 2, 0, "", "", "", "",
          0));
      MiniLlm.Outcome out = MiniLlm.prune(uneven, o, calib, OrtRuntime.cpu(1), dir, Progress.NONE);
      assertEquals(3, out.headScores()[0].length, mode);
      assertEquals(58, out.channelScores()[0].length, mode);
      assertEquals(4, out.headScores()[1].length, mode);
      assertEquals(88, out.channelScores()[1].length, mode);
      assertEquals(List.of(2, 2, 2), out.result().headsPerLayer(), mode); // LLM-Pruner counts per layer
      assertEquals(List.of(29, 44, 44), out.result().channelsPerLayer(), mode);
    }
  }

  private static void close(JsonNode expected, double[] got, String what) {
    assertEquals(expected.size(), got.length, what);
    for (int i = 0; i < got.length; i++) {
      double e = expected.get(i).asDouble();
      assertEquals(e, got[i], 1e-4 * Math.abs(e), what + " [" + i + "]");
    }
  }
}
