package dev.pruneserve.pruning;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pruneserve.graph.ModelBuilder;
import dev.pruneserve.graph.OnnxGraph;
import dev.pruneserve.onnx.proto.Onnx.ModelProto;
import dev.pruneserve.pruning.criteria.Pruner;
import dev.pruneserve.pruning.methods.PruneMethods;
import dev.pruneserve.pruning.methods.PruneRecipe;
import dev.pruneserve.pruning.transformer.FfnDiscovery;
import dev.pruneserve.pruning.transformer.FfnGroup;
import dev.pruneserve.pruning.transformer.GatedMlpDiscovery;
import dev.pruneserve.pruning.transformer.Surgery;
import dev.pruneserve.runtime.OrtRuntime;
import java.util.BitSet;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Every pruning result is validated: a correctly pruned ReLU MLP (found as a plain FFN) passes; a
 * half-edited one (fc1 sliced, its bias and fc2 not) is rejected, naming the node where shapes
 * first disagree.
 */
class ModelCheckTest {
  @Test
  void acceptsAConsistentEditAndRejectsABrokenOne() throws Exception {
    ModelProto mlp = ModelBuilder.mlp("mlp", 5, 8, 16, 4);
    OnnxGraph g = new OnnxGraph(mlp);
    List<FfnGroup> ffns = FfnDiscovery.plainFfns(g);
    assertEquals(1, ffns.size());
    assertEquals(16, ffns.get(0).width());
    Pruner.Result r = PruneMethods.apply(mlp, PruneRecipe.of("magnitude-l2", 0.5), null, OrtRuntime.cpu(1));
    assertEquals(List.of(8), r.channelsPerLayer());
    assertDoesNotThrow(() -> ModelCheck.validate(r.model(), OrtRuntime.cpu(1)));

    BitSet drop = new BitSet();
    drop.set(0, 3);
    ModelProto broken = mlp.toBuilder().setGraph(Surgery.replace(mlp.getGraph().toBuilder(), java.util.Map.of(
        ffns.get(0).weight1(), Surgery.keepColumns(GatedMlpDiscovery.require(g, ffns.get(0).weight1()), drop))))
        .build();
    IllegalStateException e = assertThrows(IllegalStateException.class,
        () -> ModelCheck.validate(broken, OrtRuntime.cpu(1)));
    assertTrue(e.getMessage().contains("inconsistent at Add"), e.getMessage()); // caught statically, node named
  }
}
