package dev.pruneserve.pruning.cnn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pruneserve.onnx.proto.Onnx.ModelProto;
import dev.pruneserve.onnx.proto.Onnx.TensorProto;
import dev.pruneserve.pruning.criteria.Pruner;
import dev.pruneserve.pruning.methods.PruneMethods;
import dev.pruneserve.pruning.methods.PruneRecipe;
import dev.pruneserve.runtime.OrtRuntime;
import dev.pruneserve.testing.TestCnns;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Weight-only CNN pruning through the same entry point as transformers ({@link PruneMethods}): the
 * generated CNN (residual, depthwise, Concat, SE) pruned at p = 0.5 keeps {@code int(C·0.5)}
 * channels per group, shrinks, and passes the ONNX Runtime validation; group-magnitude scores
 * equal a hand computation; methods without a CNN definition are refused by name.
 */
class ChannelPrunerTest {
  @Test
  void prunesTheGeneratedCnnThroughPruneMethods() throws Exception {
    ModelProto cnn = TestCnns.cnn(3, false);
    ChannelDependencies deps = ChannelDiscovery.discover(cnn);
    Pruner.Result r = PruneMethods.apply(cnn, PruneRecipe.of("magnitude-l2", 0.5), null, OrtRuntime.cpu(1));
    List<Integer> expected = deps.groups().stream().map(g -> g.channels() - (g.channels() - g.channels() / 2)).toList();
    assertEquals(expected, r.channelsPerLayer());
    assertTrue(r.parametersAfter() < r.parametersBefore());
    Pruner.Result a = PruneMethods.apply(cnn, PruneRecipe.of("random", 0.5), null, OrtRuntime.cpu(1));
    Pruner.Result b = PruneMethods.apply(cnn, PruneRecipe.of("random", 0.5), null, OrtRuntime.cpu(1));
    assertArrayEquals(a.model().toByteArray(), b.model().toByteArray(), "same seed, same result");
    assertNotEquals(r.model(), a.model());
    dev.pruneserve.error.ServingException e = assertThrows(dev.pruneserve.error.ServingException.class,
        () -> PruneMethods.apply(cnn, PruneRecipe.of("magnitude-sp", 0.5), null, OrtRuntime.cpu(1)));
    assertTrue(e.getMessage().contains("CNNs take"), e.getMessage());
  }

  @Test
  void groupMagnitudeIsTheMeanOfMemberSliceNorms() {
    ModelProto cnn = TestCnns.flatHead(4, false);
    Map<String, TensorProto> init = new HashMap<>();
    cnn.getGraph().getInitializerList().forEach(t -> init.put(t.getName(), t));
    ChannelGroup g = ChannelDiscovery.discover(cnn).groups().get(0);
    double[] got = ChannelPruner.scores(g, init, ChannelPruner.Score.L1, 0);
    double[] want = new double[g.channels()];
    int members = 0;
    for (ChannelSlice s : g.slices()) {
      TensorProto t = init.get(s.initializer());
      if (t.getDimsCount() < 2) {
        continue;
      }
      members++;
      float[] w = new float[t.getRawData().size() / 4];
      t.getRawData().asReadOnlyByteBuffer().order(java.nio.ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(w);
      int inner = 1;
      for (int d = s.axis() + 1; d < t.getDimsCount(); d++) {
        inner *= (int) t.getDims(d);
      }
      int n = (int) t.getDims(s.axis());
      for (int i = 0; i < w.length; i++) {
        int index = (i / inner) % n; // index along the axis
        int c = index / s.multiplicity() - s.offset();
        if (c >= 0 && c < g.channels()) {
          want[c] += Math.abs(w[i]);
        }
      }
    }
    for (int c = 0; c < want.length; c++) {
      want[c] /= members;
    }
    assertTrue(members >= 2, "producer and consumer slices");
    assertArrayEquals(want, got, 1e-9);
  }
}
