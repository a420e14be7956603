package dev.pruneserve.pruning;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pruneserve.graph.OnnxGraph;
import dev.pruneserve.llm.KvDecoder;
import dev.pruneserve.onnx.proto.Onnx.ModelProto;
import dev.pruneserve.pruning.transformer.FfnDiscovery;
import dev.pruneserve.pruning.transformer.GatedMlpDiscovery;
import dev.pruneserve.pruning.transformer.HeadDiscovery;
import dev.pruneserve.pruning.transformer.HeadGroup;
import dev.pruneserve.pruning.transformer.MlpGroup;
import dev.pruneserve.pruning.transformer.Surgery;
import dev.pruneserve.session.ModelSession;
import dev.pruneserve.testing.GeneratedDecoder;
import dev.pruneserve.testing.Stories15mModels;
import java.nio.file.Path;
import java.util.BitSet;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Surgery on a {@link GeneratedDecoder} (no fixture needed): removing nothing is
 * bit-identical; zeroing heads' o rows and MLP channels' down rows, then removing them (different
 * counts per layer), gives the same logits within 1e-5.
 */
class GeneratedDecoderSurgeryTest {
  static final int LAYERS = GeneratedDecoder.LAYERS;

  @TempDir Path dir;

  @Test
  void removingZeroedGroupsChangesNothing() throws Exception {
    ModelProto dense = GeneratedDecoder.model(dir);
    OnnxGraph g = new OnnxGraph(dense);
    List<HeadGroup> blocks = HeadDiscovery.attentionBlocks(g);
    List<MlpGroup> mlps = GatedMlpDiscovery.gatedMlps(g);
    assertEquals(LAYERS, blocks.size());
    assertEquals(LAYERS, mlps.size());
    assertTrue(FfnDiscovery.plainFfns(g).isEmpty(), "a gated MLP is not a plain FFN");
    ModelProto same = Surgery.removeMlpChannels(new OnnxGraph(Surgery.removeHeads(g, blocks, Map.of())),
        mlps, Map.of());
    assertArrayEquals(logits(dense), logits(same));

    ModelProto zeroed = dense;
    Map<Integer, BitSet> heads = new java.util.HashMap<>();
    Map<Integer, BitSet> channels = new java.util.HashMap<>();
    for (int l = 0; l < LAYERS; l++) {
      BitSet h = new BitSet();
      h.set(l, l + 1 + l % 2); // 1, 2, 1 heads
      heads.put(l, h);
      BitSet rows = new BitSet();
      h.stream().forEach(i -> rows.set(i * 8, (i + 1) * 8));
      zeroed = Surgery.zeroRows(zeroed, blocks.get(l).oWeight(), rows);
      BitSet c = new BitSet();
      c.set(3 * l, 3 * l + 10 * (l + 1));
      channels.put(l, c);
      zeroed = Surgery.zeroRows(zeroed, mlps.get(l).downWeight(), c);
    }
    ModelProto pruned = Surgery.removeHeads(g, blocks, heads);
    OnnxGraph g2 = new OnnxGraph(pruned);
    pruned = Surgery.removeMlpChannels(g2, GatedMlpDiscovery.gatedMlps(g2), channels);
    assertEquals(List.of(3, 2, 3), HeadDiscovery.attentionBlocks(new OnnxGraph(pruned)).stream()
        .map(HeadGroup::queryHeads).toList());
    assertEquals(List.of(78, 68, 58), GatedMlpDiscovery.gatedMlps(new OnnxGraph(pruned)).stream()
        .map(MlpGroup::width).toList());
    float[] a = logits(zeroed);
    float[] b = logits(pruned);
    for (int i = 0; i < a.length; i++) {
      assertEquals(a[i], b[i], 1e-5f * (1 + Math.abs(a[i])), "logit " + i);
    }
  }

  private float[] logits(ModelProto m) throws Exception {
    try (ModelSession s = Stories15mModels.load(dir, m, "gen"); KvDecoder d = new KvDecoder(s)) {
      return d.step(new int[] {1, 5, 9, 33, 60, 2, 17});
    }
  }
}
