package dev.pruneserve.pruning;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pruneserve.error.ErrorKind;
import dev.pruneserve.error.ServingException;
import dev.pruneserve.graph.OnnxGraph;
import dev.pruneserve.onnx.proto.Onnx.GraphProto;
import dev.pruneserve.onnx.proto.Onnx.ModelProto;
import dev.pruneserve.onnx.proto.Onnx.NodeProto;
import dev.pruneserve.pruning.criteria.Flap;
import dev.pruneserve.pruning.criteria.Pruner;
import dev.pruneserve.pruning.criteria.WandaSp;
import dev.pruneserve.pruning.methods.PruneMethods;
import dev.pruneserve.pruning.methods.PruneRecipe;
import dev.pruneserve.pruning.methods.RecipeParser;
import dev.pruneserve.pruning.transformer.GroupKinds;
import dev.pruneserve.pruning.transformer.HeadDiscovery;
import dev.pruneserve.runtime.OrtRuntime;
import dev.pruneserve.testing.GeneratedDecoder;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The {@code groups} option: a method pruning only MLP channels (or only heads) removes exactly
 * what the same method removes of that kind when it prunes both (where the kinds' scores are
 * independent), leaves the other kind whole, and lets a model with an attention block discovery
 * cannot match be pruned at the MLP scope, while the default scope refuses it naming the node.
 */
class GroupKindsTest {
  private static final int[] DENSE_HEADS = {4, 4, 4};
  @TempDir static Path dir;
  private static ModelProto dense;
  private static List<int[]> calib;

  @BeforeAll
  static void build() throws Exception {
    dense = GeneratedDecoder.model(dir);
    calib = GeneratedDecoder.sequences(6, 11);
  }

  @Test
  void weightOnlyMlpScopeKeepsHeadsAndCutsTheSameChannels() {
    Pruner.Result all = Pruner.prune(dense, new Pruner.Options(dev.pruneserve.pruning.criteria.Criterion.MAGNITUDE_L2,
        0.5, 0, 0, -1));
    Pruner.Result mlp = Pruner.prune(dense, new Pruner.Options(dev.pruneserve.pruning.criteria.Criterion.MAGNITUDE_L2,
        0.5, 0, 0, -1, GroupKinds.MLP));
    Pruner.Result heads = Pruner.prune(dense, new Pruner.Options(
        dev.pruneserve.pruning.criteria.Criterion.MAGNITUDE_L2, 0.5, 0, 0, -1, GroupKinds.ATTENTION));
    assertEquals(List.of(4, 4, 4), mlp.headsPerLayer());
    assertEquals(all.channelsPerLayer(), mlp.channelsPerLayer());
    assertEquals(all.headsPerLayer(), heads.headsPerLayer());
    assertEquals(List.of(88, 88, 88), heads.channelsPerLayer());
    assertTrue(all.headsPerLayer().get(0) < DENSE_HEADS[0]);
  }

  @Test
  void flapUniformMlpScopeRemovesTheChannelsOfTheFullRun() throws Exception {
    OrtRuntime rt = OrtRuntime.cpu(1);
    Flap.Outcome all = Flap.prune(dense, new Flap.Options(0.4, Flap.Metric.WIFV, Flap.Structure.UL_UM, true, 0, -1),
        calib, rt, dir);
    Flap.Outcome mlp = Flap.prune(dense, new Flap.Options(0.4, Flap.Metric.WIFV, Flap.Structure.UL_UM, true, 0, -1,
        GroupKinds.MLP), calib, rt, dir);
    assertEquals(all.removedChannels(), mlp.removedChannels());
    assertEquals(List.of(4, 4, 4), mlp.result().headsPerLayer());
    Flap.Outcome global = Flap.prune(dense, new Flap.Options(0.4, Flap.Metric.WIFV, Flap.Structure.AL_AM, true, 0,
        -1, GroupKinds.MLP), calib, rt, dir);
    int kept = global.result().channelsPerLayer().stream().mapToInt(Integer::intValue).sum();
    assertEquals(List.of(4, 4, 4), global.result().headsPerLayer());
    assertEquals(0.6, kept / (3.0 * GeneratedDecoder.HIDDEN), 1.0 / GeneratedDecoder.HIDDEN); // AL-AM over channels only
  }

  @Test
  void wandaSpMlpScopeScoresTheFirstLayerAsTheFullRun() throws Exception {
    OrtRuntime rt = OrtRuntime.cpu(1);
    WandaSp.Outcome all = WandaSp.prune(dense, 0.5, 0, -1, calib, rt, dir);
    WandaSp.Outcome mlp = WandaSp.prune(dense, 0.5, 0, -1, GroupKinds.MLP, calib, rt, dir,
        dev.pruneserve.pruning.Progress.NONE);
    assertTrue(mlp.headScores().isEmpty());
    assertEquals(java.util.Arrays.toString(all.mlpScores().get(0)), java.util.Arrays.toString(mlp.mlpScores().get(0)));
    assertEquals(List.of(4, 4, 4), mlp.result().headsPerLayer());
    assertEquals(List.of(44, 44, 44), mlp.result().channelsPerLayer());
  }

  @Test
  void unmatchedAttentionIsRefusedAtTheDefaultScopeAndPrunedAtTheMlpScope() throws Exception {
    ModelProto odd = scaledSoftmax(dense);
    assertTrue(HeadDiscovery.attentionBlocks(new OnnxGraph(odd)).isEmpty());
    ServingException e = assertThrows(ServingException.class, () -> PruneMethods.apply(odd,
        PruneRecipe.of("magnitude-l2", 0.5), null, OrtRuntime.cpu(1)));
    assertEquals(ErrorKind.FAILED_PRECONDITION, e.kind());
    assertTrue(e.getMessage().contains("Softmax node") && e.getMessage().contains("set groups to mlp"),
        e.getMessage());
    PruneRecipe mlp = RecipeParser.parse("magnitude-l2", 0.5, Map.of("groups", "mlp"));
    Pruner.Result r = PruneMethods.apply(odd, mlp, null, OrtRuntime.cpu(1));
    assertEquals(List.of(44, 44, 44), r.channelsPerLayer());
    Pruner.Result f = PruneMethods.apply(odd, RecipeParser.parse("flap", 0.3, Map.of("groups", "mlp")), calib,
        OrtRuntime.cpu(1));
    assertTrue(f.parametersAfter() < f.parametersBefore());
  }

  @Test
  void aRatioBelowOneHeadPerLayerIsReported() throws Exception {
    // heads: (32 − int(32·0.9)) div 8 = 0 of 4; channels: 88 − int(88·0.9) = 9
    Pruner.Result r = PruneMethods.apply(dense, PruneRecipe.of("magnitude-l2", 0.1), null, OrtRuntime.cpu(1));
    assertEquals(List.of(4, 4, 4), r.headsPerLayer());
    assertTrue(String.valueOf(r.details().get("heads_unchanged")).contains("removes no attention unit"),
        r.details().toString());
    Pruner.Result mlp = PruneMethods.apply(dense, RecipeParser.parse("magnitude-l2", 0.1, Map.of("groups", "mlp")),
        null, OrtRuntime.cpu(1));
    assertTrue(!mlp.details().containsKey("heads_unchanged"), "asked for channels only");
  }

  @Test
  void methodsThatPruneBothTogetherRefuseAScopeAndIdsKeepTheirDefault() {
    ServingException e = assertThrows(ServingException.class, () -> RecipeParser.parse("forward-search", 0.3,
        Map.of("groups", "mlp")));
    assertEquals(ErrorKind.INVALID_ARGUMENT, e.kind());
    assertTrue(e.getMessage().contains("--groups applies to") && e.getMessage().contains("wanda-sp"), e.getMessage());
    assertThrows(ServingException.class, () -> RecipeParser.parse("flap", 0.3, Map.of("groups", "heads")));
    PruneRecipe plain = PruneRecipe.of("flap", 0.3);
    assertEquals(plain.identity(), RecipeParser.parse("flap", 0.3, Map.of("groups", "all")).identity());
    assertNotEquals(plain.identity(), RecipeParser.parse("flap", 0.3, Map.of("groups", "mlp")).identity());
  }

  /** Softmax → Mul(·, 1) → MatMul: the same function, an attention block discovery does not match. */
  private static ModelProto scaledSoftmax(ModelProto m) {
    GraphProto.Builder g = m.getGraph().toBuilder().clearNode();
    g.addInitializer(
        dev.pruneserve.onnx.proto.Onnx.TensorProto.newBuilder().setName("one").setDataType(1).addFloatData(1f));
    for (NodeProto n : m.getGraph().getNodeList()) {
      if (n.getOpType().equals("Softmax")) {
        String y = n.getOutput(0);
        g.addNode(n.toBuilder().setOutput(0, y + ".raw"));
        g.addNode(NodeProto.newBuilder().setOpType("Mul").setName(n.getName() + ".scale").addInput(y + ".raw")
            .addInput("one").addOutput(y));
      } else {
        g.addNode(n);
      }
    }
    return m.toBuilder().setGraph(g).build();
  }
}
