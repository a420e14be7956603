package dev.pruneserve.pruning;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pruneserve.config.ServerConfig;
import dev.pruneserve.eval.TokenFiles;
import dev.pruneserve.graph.OnnxGraph;
import dev.pruneserve.onnx.proto.Onnx.ModelProto;
import dev.pruneserve.pruning.criteria.Pruner;
import dev.pruneserve.pruning.criteria.WandaSp;
import dev.pruneserve.pruning.transformer.HeadDiscovery;
import dev.pruneserve.runtime.OrtRuntime;
import dev.pruneserve.testing.Fixtures;
import dev.pruneserve.testing.Stories15mModels;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Sequential Wanda-SP on the shared calibration stories against reference-scores.json: scores of
 * the p = 0.2 run within 1e-4 relative; kept heads and MLP channels identical at p = 0.2 and 0.5.
 */
class WandaSpTest {
  @TempDir Path dir;

  @Test
  void sequentialWandaSpMatchesTheReference() throws Exception {
    JsonNode ref = new ObjectMapper().readTree(Fixtures.stories15mData("reference-scores.json").toFile());
    List<int[]> calib = TokenFiles.stories(Fixtures.stories15mData("calib_ids.json"));
    ModelProto dense = Stories15mModels.dense();
    OrtRuntime rt = new OrtRuntime(OrtRuntime.settings(ServerConfig.Device.CPU, true, 1));
    WandaSp.Outcome o = WandaSp.prune(dense, 0.2, 0, -1, calib, rt, dir);
    JsonNode scores = ref.get("wanda_sp_seq_all_p0.2");
    for (int l = 0; l < 6; l++) {
      close(scores.get("heads").get(l), o.headScores().get(l), "heads " + l);
      close(scores.get("mlp").get(l), o.mlpScores().get(l), "mlp " + l);
    }
    assertKept(ref.get("wanda_sp").get("all_p0.2_mask"), o);
    WandaSp.Outcome half = WandaSp.prune(dense, 0.5, 0, -1, calib, rt, dir);
    assertKept(ref.get("wanda_sp").get("all_p0.5_mask"), half);
    assertEquals(List.of(3, 3, 3, 3, 3, 3), half.result().headsPerLayer());
    assertEquals(6, HeadDiscovery.attentionBlocks(new OnnxGraph(half.result().model())).size());
  }

  private static void assertKept(JsonNode mask, WandaSp.Outcome o) {
    for (int l = 0; l < 6; l++) {
      double[] h = o.headScores().get(l);
      java.util.BitSet removed = Pruner.lowest(h, 6 - count(mask.get("heads_kept").get(l)));
      for (int i = 0; i < 6; i++) {
        assertEquals(mask.get("heads_kept").get(l).get(i).asInt() == 1, !removed.get(i), "head " + i + " layer " + l);
      }
      double[] m = o.mlpScores().get(l);
      java.util.BitSet gone = Pruner.lowest(m, 768 - count(mask.get("mlp_kept").get(l)));
      for (int i = 0; i < 768; i++) {
        assertEquals(mask.get("mlp_kept").get(l).get(i).asInt() == 1, !gone.get(i), "channel " + i + " layer " + l);
      }
    }
  }

  private static int count(JsonNode flags) {
    int n = 0;
    for (JsonNode f : flags) {
      n += f.asInt();
    }
    return n;
  }

  private static void close(JsonNode expected, double[] got, String what) {
    assertEquals(expected.size(), got.length, what);
    for (int i = 0; i < got.length; i++) {
      double e = expected.get(i).asDouble();
      assertEquals(e, got[i], 1e-4 * Math.abs(e), what + "[" + i + "]");
    }
  }
}
