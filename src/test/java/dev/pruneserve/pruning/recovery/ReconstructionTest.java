package dev.pruneserve.pruning.recovery;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pruneserve.graph.FloatTensors;
import dev.pruneserve.graph.OnnxGraph;
import dev.pruneserve.llm.KvDecoder;
import dev.pruneserve.onnx.proto.Onnx.GraphProto;
import dev.pruneserve.onnx.proto.Onnx.ModelProto;
import dev.pruneserve.onnx.proto.Onnx.TensorProto;
import dev.pruneserve.pruning.Progress;
import dev.pruneserve.pruning.criteria.Criterion;
import dev.pruneserve.pruning.criteria.Pruner;
import dev.pruneserve.pruning.transformer.GatedMlpDiscovery;
import dev.pruneserve.pruning.transformer.MlpGroup;
import dev.pruneserve.pruning.transformer.Surgery;
import dev.pruneserve.runtime.OrtRuntime;
import dev.pruneserve.session.ModelSession;
import dev.pruneserve.testing.GeneratedDecoder;
import dev.pruneserve.testing.Stories15mModels;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.BitSet;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * One-shot reconstruction on the generated decoder: nothing removed changes nothing; a channel
 * that duplicates another (same gate and up columns) is removed and the dense logits come back to
 * 1e-4; on a real prune the reconstructed model is closer to dense on unseen sequences than the
 * pruned one; the ridge solver against a hand-solved system.
 */
class ReconstructionTest {
  @TempDir Path dir;

  @Test
  void ridgeSolvesAKnownSystem() {
    // [[4, 2], [2, 3]] x = [[2, 1], [1, 2]] → x = [[0.5, -0.125], [0, 0.75]]
    double[] x = Ridge.solve(new double[] {4, 2, 2, 3}, new double[] {2, 1, 1, 2}, 2, 2, 0, 2);
    assertArrayEquals(new double[] {0.5, -0.125, 0, 0.75}, x, 1e-12);
  }

  @Test
  void removingNothingChangesNothing() throws Exception {
    ModelProto dense = GeneratedDecoder.model(dir);
    Reconstruction.Result r = Reconstruction.oneShot(dense, dense, GeneratedDecoder.sequences(4, 1), 1e-6,
        OrtRuntime.cpu(1), dir, Progress.NONE);
    assertSame(dense, r.model());
    assertTrue(r.projections().isEmpty());
  }

  @Test
  void aDuplicatedChannelIsRemovedAndTheDenseOutputRecovered() throws Exception {
    ModelProto base = GeneratedDecoder.model(dir);
    MlpGroup mlp = GatedMlpDiscovery.gatedMlps(new OnnxGraph(base)).get(1);
    // channel 5 of layer 1 becomes an exact copy of channel 2 (gate and up columns), so x_5 = x_2
    ModelProto dense = copyColumn(copyColumn(base, mlp.gateWeight(), 2, 5), mlp.upWeight(), 2, 5);
    BitSet drop = new BitSet();
    drop.set(5);
    OnnxGraph g = new OnnxGraph(dense);
    ModelProto pruned = Surgery.removeMlpChannels(g, GatedMlpDiscovery.gatedMlps(g), Map.of(1, drop));
    Reconstruction.Result r = Reconstruction.oneShot(dense, pruned, GeneratedDecoder.sequences(8, 2), 1e-9,
        OrtRuntime.cpu(1), dir, Progress.NONE);
    assertEquals(1, r.projections().size());
    int[] seq = GeneratedDecoder.sequences(1, 99).get(0);
    float[] want = logits(dense, seq);
    float[] got = logits(r.model(), seq);
    float[] without = logits(pruned, seq);
    double worst = 0;
    double before = 0;
    for (int i = 0; i < want.length; i++) {
      worst = Math.max(worst, Math.abs(want[i] - got[i]));
      before = Math.max(before, Math.abs(want[i] - without[i]));
    }
    assertTrue(worst < 1e-4, "reconstructed max |Δlogit| " + worst + " (pruned: " + before + ")");
    assertTrue(before > 1e-2, "the removal mattered: " + before);
  }

  @Test
  void aRealPruneGetsCloserToDense() throws Exception {
    ModelProto dense = GeneratedDecoder.model(dir);
    ModelProto pruned = Pruner.prune(dense, new Pruner.Options(Criterion.MAGNITUDE_L2, 0.5, 0, 0, -1)).model();
    ModelProto rec = Reconstruction.oneShot(dense, pruned, GeneratedDecoder.sequences(16, 3), 1e-3,
        OrtRuntime.cpu(1), dir, Progress.NONE).model();
    double errPruned = 0;
    double errRec = 0;
    for (int[] seq : GeneratedDecoder.sequences(4, 77)) {
      float[] want = logits(dense, seq);
      float[] p = logits(pruned, seq);
      float[] q = logits(rec, seq);
      for (int i = 0; i < want.length; i++) {
        errPruned += (want[i] - p[i]) * (want[i] - p[i]);
        errRec += (want[i] - q[i]) * (want[i] - q[i]);
      }
    }
    assertTrue(errRec < 0.8 * errPruned, "squared logit error " + errRec + " vs " + errPruned);
  }

  @Test
  void everyMethodTakesItAsARecipeOption() throws Exception {
    ModelProto dense = GeneratedDecoder.model(dir);
    var recipe = dev.pruneserve.pruning.methods.RecipeParser.parse("magnitude-l2", 0.5, Map.of("reconstruct", "true"));
    assertTrue(recipe.needsTokens(), "reconstruction needs calibration even for a weight-only method");
    assertEquals(Map.of("mode", "one-shot", "lambda", 1e-2), recipe.identity().get("reconstruct"));
    assertTrue(!dev.pruneserve.pruning.methods.PruneRecipe.of("magnitude-l2", 0.5).identity().containsKey(
        "reconstruct"), "absent when off: ids of earlier recipes stay");
    Pruner.Result r = dev.pruneserve.pruning.methods.PruneMethods.apply(dense, recipe, GeneratedDecoder.sequences(8, 4),
        OrtRuntime.cpu(1));
    assertEquals(6, ((List<?>) r.details().get("reconstructed")).size(), "3 o_proj + 3 down_proj re-fitted");
    var e = org.junit.jupiter.api.Assertions.assertThrows(dev.pruneserve.error.ServingException.class,
        () -> dev.pruneserve.pruning.methods.RecipeParser.parse("flap", 0.5, Map.of("reconstruct-lambda", "0.1")));
    assertTrue(e.getMessage().contains("needs --reconstruct true"), e.getMessage());
  }

  private float[] logits(ModelProto m, int[] seq) throws Exception {
    try (ModelSession s = Stories15mModels.load(dir, m, "m" + System.nanoTime()); KvDecoder d = new KvDecoder(s)) {
      return d.step(seq);
    }
  }

  private static ModelProto copyColumn(ModelProto m, String name, int from, int to) {
    GraphProto.Builder g = m.getGraph().toBuilder();
    for (int i = 0; i < g.getInitializerCount(); i++) {
      TensorProto t = g.getInitializer(i);
      if (t.getName().equals(name)) {
        int cols = (int) t.getDims(1);
        FloatBuffer f = FloatTensors.values(t);
        float[] v = new float[f.remaining()];
        f.get(v);
        for (int r = 0; r < t.getDims(0); r++) {
          v[r * cols + to] = v[r * cols + from];
        }
        g.setInitializer(i, FloatTensors.tensor(name, t.getDataType(), v, t.getDims(0), cols));
      }
    }
    return m.toBuilder().setGraph(g).build();
  }

}
