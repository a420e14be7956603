package dev.pruneserve.pruning;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pruneserve.llm.KvDecoder;
import dev.pruneserve.onnx.proto.Onnx.ModelProto;
import dev.pruneserve.pruning.criteria.Criterion;
import dev.pruneserve.pruning.criteria.Pruner;
import dev.pruneserve.session.ModelSession;
import dev.pruneserve.testing.Stories15mModels;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Uniform-ratio pruning of stories15M with the weight-only criteria. */
class PrunerTest {
  static ModelProto dense;

  @TempDir Path dir;

  @BeforeAll
  static void export() throws Exception {
    dense = Stories15mModels.dense();
  }

  @Test
  void halfOfEveryLayerGoesAndTheModelStillDecodes() throws Exception {
    for (Criterion c : Criterion.values()) {
      Pruner.Result r = Pruner.prune(dense, new Pruner.Options(c, 0.5, 1, 0, -1));
      assertEquals(List.of(3, 3, 3, 3, 3, 3), r.headsPerLayer(), c.name());
      assertEquals(List.of(384, 384, 384, 384, 384, 384), r.channelsPerLayer(), c.name());
      // 6 layers x (3 heads x 4·288·48 + 384 channels x 3·288) removed
      assertEquals(6L * (3 * 4 * 288 * 48 + 384 * 3 * 288), r.parametersBefore() - r.parametersAfter(), c.name());
      assertEquals(4 * 32000, logits(r.model()).length, c.name());
    }
  }

  @Test
  void layerRangeAndSeedAreHonoured() {
    Pruner.Result r = Pruner.prune(dense, new Pruner.Options(Criterion.RANDOM, 0.25, 5, 2, 4));
    assertEquals(List.of(6, 6, 5, 5, 6, 6), r.headsPerLayer());
    assertEquals(List.of(768, 768, 576, 576, 768, 768), r.channelsPerLayer());
    Pruner.Result again = Pruner.prune(dense, new Pruner.Options(Criterion.RANDOM, 0.25, 5, 2, 4));
    assertArrayEquals(r.model().toByteArray(), again.model().toByteArray());
    assertThrows(IllegalArgumentException.class, () -> new Pruner.Options(Criterion.RANDOM, 1.0, 0, 0, -1));
  }

  @Test
  void magnitudeRemovesTheSmallestColumnNorms() {
    double[] s = {3, 1, 2, 0.5};
    assertEquals("{1, 3}", Pruner.lowest(s, 2).toString());
  }

  private float[] logits(ModelProto m) throws Exception {
    try (ModelSession s = Stories15mModels.load(dir, m, "m");
        KvDecoder d = new KvDecoder(s)) {
      float[] out = d.step(new int[] {1, 9038, 2501, 263});
      assertTrue(Float.isFinite(out[out.length - 1]));
      return out;
    }
  }
}
