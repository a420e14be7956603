package dev.pruneserve.pruning;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pruneserve.checkpoint.HfImport;
import dev.pruneserve.graph.OnnxGraph;
import dev.pruneserve.llm.KvDecoder;
import dev.pruneserve.onnx.proto.Onnx.ModelProto;
import dev.pruneserve.pruning.criteria.Pruner;
import dev.pruneserve.pruning.methods.PruneMethods;
import dev.pruneserve.pruning.methods.RecipeParser;
import dev.pruneserve.pruning.transformer.GatedMlpDiscovery;
import dev.pruneserve.pruning.transformer.HeadDiscovery;
import dev.pruneserve.pruning.transformer.HeadGroup;
import dev.pruneserve.pruning.transformer.Surgery;
import dev.pruneserve.runtime.OrtRuntime;
import dev.pruneserve.session.ModelSession;
import dev.pruneserve.testing.ExportForms;
import dev.pruneserve.testing.HfFolders;
import dev.pruneserve.testing.Stories15mModels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Grouped-query attention (tiny imported Llama / Qwen2 / Qwen3 checkpoints: 4 query heads over 2
 * K/V heads) in each export form: discovered as 2 units of 2 query heads; removing a unit (a K/V
 * head with its query heads) computes what the model computes with those query heads' o_proj rows
 * zeroed (1e-4), also decoding through the pruned KV cache; removing nothing is bit-identical;
 * every LLM method prunes it.
 */
class GqaPruningTest {
  private static final int[] IDS = {1, 17, 5, 42, 9, 63, 0, 28, 11, 3};
  @TempDir Path dir;

  private ModelProto tiny(String family) throws Exception {
    HfFolders.Folder f = HfFolders.tiny(dir.resolve(family), family, "F32", 5);
    return ModelProto.parseFrom(Files.readAllBytes(new HfImport(dir.resolve("cache")).modelFile(f.dir())));
  }

  private static ModelProto form(ModelProto m, String form) {
    return switch (form) {
      case "expand-names-kv" -> ExportForms.expandNamingKvHeads(m);
      case "inferred-heads" -> ExportForms.inferredHeadCounts(m);
      case "eager-casts" -> ExportForms.castsAroundSoftmax(m);
      default -> m;
    };
  }

  @ParameterizedTest
  @CsvSource({"llama, plain", "llama, expand-names-kv", "llama, inferred-heads", "qwen2, plain",
      "qwen2, eager-casts", "qwen3, plain", "qwen3, inferred-heads"})
  void removingAKvGroupEqualsZeroingItsQueryHeads(String family, String formName) throws Exception {
    ModelProto dense = form(tiny(family), formName);
    OnnxGraph g = new OnnxGraph(dense);
    HeadDiscovery.Scan scan = HeadDiscovery.scan(g);
    assertEquals(List.of(), scan.unmatched());
    List<HeadGroup> blocks = scan.blocks();
    assertEquals(2, blocks.size());
    for (HeadGroup b : blocks) {
      assertEquals(4, b.queryHeads());
      assertEquals(2, b.units());
      assertEquals(2, b.groupSize());
    }
    assertArrayEquals(logits(dense), logits(Surgery.removeHeads(g, blocks, Map.of())), 0f, "nothing removed");

    ModelProto zeroed = dense;
    Map<Integer, BitSet> drop = Map.of(0, bits(1), 1, bits(0));
    for (HeadGroup b : blocks) {
      zeroed = Surgery.zeroRows(zeroed, b.oWeight(), b.queryChannels(drop.get(b.index())));
    }
    ModelProto pruned = Surgery.removeHeads(g, blocks, drop);
    List<HeadGroup> after = HeadDiscovery.attentionBlocks(new OnnxGraph(pruned));
    assertEquals(List.of(2, 2), after.stream().map(HeadGroup::queryHeads).toList());
    assertEquals(List.of(1, 1), after.stream().map(HeadGroup::kvHeads).toList());
    float[] want = logits(zeroed);
    assertArrayEquals(want, logits(pruned), 1e-4f, "pruned = gated");
    try (ModelSession s = Stories15mModels.load(dir, pruned, "cached"); KvDecoder d = new KvDecoder(s)) {
      int vocab = want.length / IDS.length;
      for (int t = 0; t < IDS.length; t++) {
        float[] row = java.util.Arrays.copyOfRange(want, t * vocab, (t + 1) * vocab);
        assertArrayEquals(row, d.step(new int[] {IDS[t]}), 1e-4f, "through the pruned KV cache, position " + t);
      }
    }
  }

  /**
   * A tile-ordered repeat (query head h reads K/V head h % KV: Unsqueeze at axis 1, Expand
   * [1, rep, 1, 1, 1]) is a valid graph that whole-group surgery would mis-slice: it is refused,
   * naming repeat_kv.
   */
  @Test
  void aTileOrderedRepeatIsRefusedNotMisSliced() throws Exception {
    ModelProto m = tiny("llama");
    OnnxGraph g = new OnnxGraph(m);
    var b = m.getGraph().toBuilder().clearNode();
    b.addInitializer(dev.pruneserve.onnx.proto.Onnx.TensorProto.newBuilder().setName("tile.axis1").setDataType(7)
        .addDims(1).addInt64Data(1));
    java.util.Set<String> expandShapes = new java.util.HashSet<>();
    for (var n : m.getGraph().getNodeList()) {
      boolean feedsExpand = n.getOpType().equals("Unsqueeze") && g.consumers(n.getOutput(0)).stream()
          .anyMatch(c -> c.getOpType().equals("Expand"));
      b.addNode(feedsExpand ? n.toBuilder().setInput(1, "tile.axis1").build() : n);
      if (n.getOpType().equals("Expand")) {
        expandShapes.add(n.getInput(1));
      }
    }
    for (int i = 0; i < b.getInitializerCount(); i++) {
      if (expandShapes.contains(b.getInitializer(i).getName())) {
        b.setInitializer(i, b.getInitializer(i).toBuilder().clearRawData().clearInt64Data().addInt64Data(1)
            .addInt64Data(2).addInt64Data(1).addInt64Data(1).addInt64Data(1));
      }
    }
    ModelProto tiled = m.toBuilder().setGraph(b).build();
    logits(tiled); // a valid model
    HeadDiscovery.Scan scan = HeadDiscovery.scan(new OnnxGraph(tiled));
    assertEquals(List.of(), scan.blocks());
    assertTrue(scan.unmatched().size() == 2 && scan.unmatched().get(0).contains("repeat_kv"), scan.unmatched()
        .toString());
  }

  @ParameterizedTest
  @CsvSource({"magnitude-l1", "magnitude-l2", "magnitude-sp", "random", "wanda-sp", "flap", "mini-llm",
      "forward-search", "taylor"})
  void everyLlmMethodPrunesKvGroups(String method) throws Exception {
    ModelProto dense = tiny("llama");
    Pruner.Result r = PruneMethods.apply(dense, RecipeParser.parse(method, 0.5, Map.of()), calibration(),
        OrtRuntime.cpu(1));
    assertTrue(r.parametersAfter() < r.parametersBefore());
    OnnxGraph g = new OnnxGraph(r.model());
    List<HeadGroup> blocks = HeadDiscovery.attentionBlocks(g);
    assertEquals(2, blocks.size());
    for (HeadGroup b : blocks) {
      assertEquals(2, b.groupSize(), method + ": query heads per K/V head stay uniform");
      assertEquals(b.queryHeads(), (int) r.headsPerLayer().get(b.index()));
    }
    assertTrue(blocks.stream().anyMatch(b -> b.units() < 2) || GatedMlpDiscovery.gatedMlps(g).stream()
        .anyMatch(m -> m.width() < 48), method + " removed nothing");
  }

  private static List<int[]> calibration() {
    SplittableRandom r = new SplittableRandom(4);
    List<int[]> out = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      int[] s = new int[12];
      s[0] = 1;
      for (int k = 1; k < s.length; k++) {
        s[k] = 2 + r.nextInt(62);
      }
      out.add(s);
    }
    return out;
  }

  private static BitSet bits(int... i) {
    BitSet b = new BitSet();
    for (int x : i) {
      b.set(x);
    }
    return b;
  }

  private float[] logits(ModelProto m) throws Exception {
    try (ModelSession s = Stories15mModels.load(dir, m, "gqa"); KvDecoder d = new KvDecoder(s)) {
      return d.step(IDS);
    }
  }
}
