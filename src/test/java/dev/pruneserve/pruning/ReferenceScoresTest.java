package dev.pruneserve.pruning;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pruneserve.graph.OnnxGraph;
import dev.pruneserve.onnx.proto.Onnx.ModelProto;
import dev.pruneserve.pruning.criteria.Criterion;
import dev.pruneserve.pruning.criteria.Pruner;
import dev.pruneserve.pruning.transformer.GatedMlpDiscovery;
import dev.pruneserve.pruning.transformer.HeadDiscovery;
import dev.pruneserve.pruning.transformer.HeadGroup;
import dev.pruneserve.pruning.transformer.MlpGroup;
import dev.pruneserve.testing.Fixtures;
import dev.pruneserve.testing.Stories15mModels;
import java.util.BitSet;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * LLM-Pruner-style magnitude L2 against the independent reference of quality-reference.md
 * (data/stories15m/reference-scores.json): group scores within 1e-4 relative, kept masks
 * identical for the `all` range at p = 0.2 and 0.5.
 */
class ReferenceScoresTest {
  static OnnxGraph graph;
  static JsonNode ref;

  @BeforeAll
  static void load() throws Exception {
    ref = new ObjectMapper().readTree(Fixtures.stories15mData("reference-scores.json").toFile()).get("magnitude_l2");
    ModelProto dense = Stories15mModels.dense();
    graph = new OnnxGraph(dense);
  }

  @Test
  void magnitudeL2ScoresMatch() {
    List<HeadGroup> blocks = HeadDiscovery.attentionBlocks(graph);
    List<MlpGroup> mlps = GatedMlpDiscovery.gatedMlps(graph);
    for (int l = 0; l < 6; l++) {
      assertClose(ref.get("heads").get(l), Criterion.MAGNITUDE_L2.heads(graph, blocks.get(l), 0), "heads " + l);
      assertClose(ref.get("mlp").get(l), Criterion.MAGNITUDE_L2.mlp(graph, mlps.get(l), 0), "mlp " + l);
    }
  }

  @Test
  void magnitudeL2MasksAreIdentical() {
    for (double p : new double[] {0.2, 0.5}) {
      Pruner.Result r = Pruner.prune(graph.model(), new Pruner.Options(Criterion.MAGNITUDE_L2, p, 0, 0, -1));
      JsonNode mask = ref.get("all_p" + p + "_mask");
      OnnxGraph pruned = new OnnxGraph(r.model());
      List<HeadGroup> blocks = HeadDiscovery.attentionBlocks(graph);
      List<MlpGroup> mlps = GatedMlpDiscovery.gatedMlps(graph);
      for (int l = 0; l < 6; l++) {
        BitSet removedHeads = Pruner.lowest(Criterion.MAGNITUDE_L2.heads(graph, blocks.get(l), 0),
            Criterion.MAGNITUDE_L2.headsToRemove(p, 6, 48));
        BitSet removedChannels = Pruner.lowest(Criterion.MAGNITUDE_L2.mlp(graph, mlps.get(l), 0),
            Criterion.MAGNITUDE_L2.channelsToRemove(p, 768));
        assertEquals(kept(mask.get("heads_kept").get(l)), complement(removedHeads, 6), "p=" + p + " heads layer " + l);
        assertEquals(kept(mask.get("mlp_kept").get(l)), complement(removedChannels, 768), "p=" + p + " mlp layer " + l);
      }
      assertEquals(6, HeadDiscovery.attentionBlocks(pruned).size());
    }
  }

  private static void assertClose(JsonNode expected, double[] got, String what) {
    assertEquals(expected.size(), got.length, what);
    for (int i = 0; i < got.length; i++) {
      double e = expected.get(i).asDouble();
      assertEquals(e, got[i], 1e-4 * Math.abs(e), what + "[" + i + "]");
    }
  }

  private static BitSet kept(JsonNode flags) {
    BitSet b = new BitSet();
    for (int i = 0; i < flags.size(); i++) {
      if (flags.get(i).asInt() == 1) {
        b.set(i);
      }
    }
    return b;
  }

  private static BitSet complement(BitSet removed, int n) {
    BitSet b = new BitSet();
    b.set(0, n);
    b.andNot(removed);
    return b;
  }
}
