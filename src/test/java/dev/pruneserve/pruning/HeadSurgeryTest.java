package dev.pruneserve.pruning;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pruneserve.assets.FixtureCache;
import dev.pruneserve.graph.OnnxGraph;
import dev.pruneserve.llm.KvDecoder;
import dev.pruneserve.onnx.proto.Onnx.ModelProto;
import dev.pruneserve.pruning.transformer.HeadDiscovery;
import dev.pruneserve.pruning.transformer.HeadGroup;
import dev.pruneserve.pruning.transformer.Surgery;
import dev.pruneserve.session.ModelSession;
import dev.pruneserve.testing.Fixtures;
import dev.pruneserve.testing.Stories15mModels;
import java.nio.file.Path;
import java.util.BitSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Attention-head surgery on the real stories15M graph: discovery by pattern finds every block
 * (6 heads of 48); removing nothing is bit-identical; zeroing heads' o-projection rows and then
 * removing the heads (q/k/v columns, o rows, shape constants, KV-cache declarations) leaves logits
 * equal within 1e-5 (allclose, atol = rtol = 1e-5), with a different head count per layer, and the
 * KV-cache decoding of the pruned model still matches recomputation.
 */
class HeadSurgeryTest {
  static final int[] PROMPT = {1, 9038, 2501, 263, 931, 29892, 727};
  static ModelProto dense;
  static OnnxGraph graph;
  static List<HeadGroup> groups;

  @TempDir Path dir;

  @BeforeAll
  static void export() throws Exception {
    FixtureCache cache = Fixtures.stories15m();
    dense = Stories15mModels.dense();
    graph = new OnnxGraph(dense);
    groups = HeadDiscovery.attentionBlocks(graph);
  }

  @Test
  void discoversEveryAttentionBlockByPattern() {
    assertEquals(6, groups.size());
    for (HeadGroup g : groups) {
      assertEquals(6, g.queryHeads());
      assertEquals(48, g.headDim());
      assertEquals(List.of("past_key_values." + g.index() + ".key", "present." + g.index() + ".key",
          "past_key_values." + g.index() + ".value", "present." + g.index() + ".value"), g.cacheValues());
    }
  }

  @Test
  void removingNothingIsBitIdentical() throws Exception {
    assertArrayEquals(logits(dense), logits(Surgery.removeHeads(graph, groups, Map.of())));
  }

  @Test
  void zeroedHeadsRemovedGiveTheSameLogits() throws Exception {
    Map<Integer, BitSet> drop = new HashMap<>();
    ModelProto zeroed = dense;
    for (HeadGroup g : groups) {
      BitSet heads = new BitSet();
      for (int k = 0; k <= g.index() % 5; k++) {
        heads.set((g.index() + 2 * k) % g.queryHeads()); // 1..5 heads, different per layer
      }
      drop.put(g.index(), heads);
      BitSet rows = new BitSet();
      heads.stream().forEach(h -> rows.set(h * g.headDim(), (h + 1) * g.headDim()));
      zeroed = Surgery.zeroRows(zeroed, g.oWeight(), rows);
    }
    ModelProto pruned = Surgery.removeHeads(graph, groups, drop);
    for (HeadGroup g : HeadDiscovery.attentionBlocks(new OnnxGraph(pruned))) {
      assertEquals(6 - drop.get(g.index()).cardinality(), g.queryHeads());
    }
    float[] a = logits(zeroed);
    float[] b = logits(pruned);
    float max = dev.pruneserve.testing.Reference.maxScaledDiff(a, b);
    assertTrue(max <= 1e-5f, "max |zeroed - pruned| / (1 + |logit|) = " + max);
    // incremental decoding with per-layer cache shapes equals recomputation on the pruned model
    float[] step;
    float[] whole;
    try (ModelSession s = Stories15mModels.load(dir, pruned, "p");
        KvDecoder inc = new KvDecoder(s); KvDecoder full = new KvDecoder(s)) {
      inc.step(java.util.Arrays.copyOf(PROMPT, PROMPT.length - 1));
      step = inc.step(new int[] {PROMPT[PROMPT.length - 1]});
      float[] all = full.step(PROMPT);
      whole = java.util.Arrays.copyOfRange(all, all.length - step.length, all.length);
    }
    float diff = 0;
    for (int i = 0; i < step.length; i++) {
      diff = Math.max(diff, Math.abs(step[i] - whole[i]));
    }
    assertTrue(diff <= 1e-4f, "cached vs recomputed on the pruned model: " + diff);
  }

  @Test
  void refusesToEmptyABlock() {
    BitSet all = new BitSet();
    all.set(0, 6);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> Surgery.removeHeads(graph, groups, Map.of(3, all)));
    assertTrue(e.getMessage().contains("attention block 3"), e.getMessage());
  }

  private float[] logits(ModelProto m) throws Exception {
    try (ModelSession s = Stories15mModels.load(dir, m, "m");
        KvDecoder d = new KvDecoder(s)) {
      return d.step(PROMPT);
    }
  }
}
