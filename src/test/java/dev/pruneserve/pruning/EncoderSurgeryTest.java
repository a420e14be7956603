package dev.pruneserve.pruning;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pruneserve.graph.OnnxGraph;
import dev.pruneserve.onnx.proto.Onnx.ModelProto;
import dev.pruneserve.pruning.criteria.Pruner;
import dev.pruneserve.pruning.transformer.FfnDiscovery;
import dev.pruneserve.pruning.transformer.FfnGroup;
import dev.pruneserve.pruning.transformer.GatedMlpDiscovery;
import dev.pruneserve.pruning.transformer.HeadDiscovery;
import dev.pruneserve.pruning.transformer.HeadGroup;
import dev.pruneserve.pruning.transformer.Surgery;
import dev.pruneserve.session.ModelSession;
import dev.pruneserve.tensor.DataType;
import dev.pruneserve.tensor.Tensor;
import dev.pruneserve.testing.Fixtures;
import dev.pruneserve.testing.Stories15mModels;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.BitSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Heads and FFN channels of the real MiniLM export (anonymous {@code onnx::MatMul_NNN} weights,
 * biases, shapes built from Shape/Gather/Constant pieces, decomposed LayerNorm and GELU): discovery
 * by pattern; removing nothing is bit-identical; zeroing the o-projection rows of some heads and
 * the fc2 rows of some channels, then removing them, leaves the hidden states equal within 1e-5.
 */
class EncoderSurgeryTest {
  static ModelProto dense;
  static OnnxGraph graph;

  @TempDir Path dir;

  @BeforeAll
  static void read() throws Exception {
    dense = ModelProto.parseFrom(Files.readAllBytes(Fixtures.minilm()));
    graph = new OnnxGraph(dense);
  }

  @Test
  void discoversHeadsAndFeedForwardChannelsByPattern() {
    List<HeadGroup> blocks = HeadDiscovery.attentionBlocks(graph);
    assertEquals(6, blocks.size());
    for (HeadGroup b : blocks) {
      assertEquals(12, b.queryHeads());
      assertEquals(32, b.headDim());
      assertEquals(1, b.qBiases().size());
      assertEquals(2, b.kvBiases().size());
      assertEquals(1, b.queryShapes().size());
      assertEquals(2, b.kvShapes().size());
      assertTrue(b.cacheValues().isEmpty());
    }
    List<FfnGroup> ffns = FfnDiscovery.plainFfns(graph);
    assertEquals(6, ffns.size());
    ffns.forEach(f -> assertEquals(1536, f.width()));
    ffns.forEach(f -> assertTrue(f.bias1() != null));
    assertTrue(GatedMlpDiscovery.gatedMlps(graph).isEmpty());
  }

  @Test
  void removingNothingIsBitIdentical() throws Exception {
    ModelProto same = Surgery.removeHeads(graph, HeadDiscovery.attentionBlocks(graph), Map.of());
    same = Surgery.removeFfnChannels(new OnnxGraph(same), FfnDiscovery.plainFfns(graph), Map.of());
    assertArrayEquals(hidden(dense), hidden(same));
  }

  @Test
  void zeroedGroupsRemovedGiveTheSameHiddenStates() throws Exception {
    SplittableRandom rng = new SplittableRandom(7);
    ModelProto zeroed = dense;
    Map<Integer, BitSet> heads = new HashMap<>();
    for (HeadGroup b : HeadDiscovery.attentionBlocks(graph)) {
      BitSet h = random(rng, b.queryHeads(), 1 + b.index() % 6);
      heads.put(b.index(), h);
      BitSet rows = new BitSet();
      h.stream().forEach(i -> rows.set(i * b.headDim(), (i + 1) * b.headDim()));
      zeroed = Surgery.zeroRows(zeroed, b.oWeight(), rows);
    }
    Map<Integer, BitSet> channels = new HashMap<>();
    for (FfnGroup f : FfnDiscovery.plainFfns(graph)) {
      BitSet c = random(rng, f.width(), 100 + 150 * f.index());
      channels.put(f.index(), c);
      zeroed = Surgery.zeroRows(zeroed, f.weight2(), c);
    }
    ModelProto pruned = Surgery.removeHeads(graph, HeadDiscovery.attentionBlocks(graph), heads);
    OnnxGraph g2 = new OnnxGraph(pruned);
    pruned = Surgery.removeFfnChannels(g2, FfnDiscovery.plainFfns(g2), channels);
    OnnxGraph done = new OnnxGraph(pruned);
    for (HeadGroup b : HeadDiscovery.attentionBlocks(done)) {
      assertEquals(12 - heads.get(b.index()).cardinality(), b.queryHeads());
    }
    for (FfnGroup f : FfnDiscovery.plainFfns(done)) {
      assertEquals(1536 - channels.get(f.index()).cardinality(), f.width());
    }
    assertTrue(Pruner.parameters(pruned) < Pruner.parameters(dense));
    float[] a = hidden(zeroed);
    float[] b = hidden(pruned);
    float max = dev.pruneserve.testing.Reference.maxScaledDiff(a, b);
    assertTrue(max <= 1e-5f, "max |zeroed - pruned| / (1 + |h|) = " + max);
  }

  private static BitSet random(SplittableRandom rng, int n, int k) {
    BitSet s = new BitSet();
    while (s.cardinality() < k) {
      s.set(rng.nextInt(n));
    }
    return s;
  }

  /** last_hidden_state for a fixed batch of 2 × 16 random token ids (second row half padded). */
  private float[] hidden(ModelProto m) throws Exception {
    int n = 2 * 16;
    SplittableRandom rng = new SplittableRandom(3);
    ByteBuffer ids = ByteBuffer.allocate(n * 8).order(ByteOrder.LITTLE_ENDIAN);
    ByteBuffer mask = ByteBuffer.allocate(n * 8).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < n; i++) {
      ids.putLong(i % 16 == 0 ? 101 : 1000 + rng.nextInt(28_000));
      mask.putLong(i >= 16 + 8 ? 0 : 1);
    }
    long[] shape = {2, 16};
    Map<String, Tensor> in = Map.of(
        "input_ids", Tensor.fixed("input_ids", DataType.INT64, shape, ids.flip()),
        "attention_mask", Tensor.fixed("attention_mask", DataType.INT64, shape, mask.flip()),
        "token_type_ids", Tensor.fixed("token_type_ids", DataType.INT64, shape, ByteBuffer.allocate(n * 8)));
    try (ModelSession s = Stories15mModels.load(dir, m, "minilm")) {
      return s.run(in, Set.of("last_hidden_state")).get("last_hidden_state").toFloatArray();
    }
  }
}
