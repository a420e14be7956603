package dev.pruneserve.pruning;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pruneserve.graph.OnnxGraph;
import dev.pruneserve.llm.KvDecoder;
import dev.pruneserve.onnx.proto.Onnx.ModelProto;
import dev.pruneserve.pruning.transformer.GatedMlpDiscovery;
import dev.pruneserve.pruning.transformer.MlpGroup;
import dev.pruneserve.pruning.transformer.Surgery;
import dev.pruneserve.session.ModelSession;
import dev.pruneserve.testing.Stories15mModels;
import java.nio.file.Path;
import java.util.BitSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * MLP-channel surgery on the real stories15M graph: discovery by pattern finds every gated MLP;
 * removing nothing is bit-identical; zeroing channels' down-projection rows and then removing the
 * channels leaves logits equal within 1e-5 (numpy allclose, atol = rtol = 1e-5), with different widths per
 * layer.
 */
class MlpSurgeryTest {
  static final int[] PROMPT = {1, 9038, 2501, 263, 931, 29892, 727};
  static ModelProto dense;
  static OnnxGraph graph;
  static List<MlpGroup> groups;

  @TempDir Path dir;

  @BeforeAll
  static void export() throws Exception {
    dense = Stories15mModels.dense();
    graph = new OnnxGraph(dense);
    groups = GatedMlpDiscovery.gatedMlps(graph);
  }

  @Test
  void discoversEveryGatedMlpByPattern() {
    assertEquals(6, groups.size());
    for (MlpGroup g : groups) {
      assertEquals(768, g.width());
    }
  }

  @Test
  void removingNothingIsBitIdentical() throws Exception {
    ModelProto same = Surgery.removeMlpChannels(graph, groups, Map.of());
    assertArrayEquals(logits(dense), logits(same));
  }

  @Test
  void zeroedChannelsRemovedGiveTheSameLogits() throws Exception {
    SplittableRandom rng = new SplittableRandom(3);
    Map<Integer, BitSet> drop = new HashMap<>();
    ModelProto zeroed = dense;
    for (MlpGroup g : groups) {
      BitSet b = new BitSet();
      int count = 100 * (g.index() + 1); // a different width per layer
      while (b.cardinality() < count) {
        b.set(rng.nextInt(g.width()));
      }
      drop.put(g.index(), b);
      zeroed = Surgery.zeroRows(zeroed, g.downWeight(), b);
    }
    ModelProto pruned = Surgery.removeMlpChannels(graph, groups, drop);
    List<MlpGroup> after = GatedMlpDiscovery.gatedMlps(new OnnxGraph(pruned));
    for (MlpGroup g : after) {
      assertEquals(768 - 100 * (g.index() + 1), g.width());
    }
    assertTrue(pruned.getSerializedSize() < dense.getSerializedSize());
    float[] a = logits(zeroed);
    float[] b = logits(pruned);
    float max = dev.pruneserve.testing.Reference.maxScaledDiff(a, b);
    // allclose(atol = rtol = 1e-5): MatMuls of different widths sum in a different order, and six
    // layers carry the last float32 ulps into logits that reach ~20.
    assertTrue(max <= 1e-5f, "max |zeroed - pruned| / (1 + |logit|) = " + max);
  }

  @Test
  void refusesToEmptyAGroupOrIndexOutOfRange() {
    BitSet all = new BitSet();
    all.set(0, 768);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> Surgery.removeMlpChannels(graph, groups, Map.of(2, all)));
    assertTrue(e.getMessage().contains("MLP group 2"), e.getMessage());
    BitSet out = new BitSet();
    out.set(800);
    e = assertThrows(IllegalArgumentException.class, () -> Surgery.removeMlpChannels(graph, groups, Map.of(0, out)));
    assertTrue(e.getMessage().contains("channel 800 out of range"), e.getMessage());
  }

  private float[] logits(ModelProto m) throws Exception {
    try (ModelSession s = Stories15mModels.load(dir, m, "m");
        KvDecoder d = new KvDecoder(s)) {
      return d.step(PROMPT);
    }
  }
}
