package dev.pruneserve.pruning;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pruneserve.graph.OnnxGraph;
import dev.pruneserve.onnx.proto.Onnx.ModelProto;
import dev.pruneserve.onnx.proto.Onnx.TensorProto;
import dev.pruneserve.pruning.criteria.Criterion;
import dev.pruneserve.pruning.criteria.Pruner;
import dev.pruneserve.pruning.methods.PruneMethods;
import dev.pruneserve.pruning.methods.PruneRecipe;
import dev.pruneserve.pruning.transformer.FfnDiscovery;
import dev.pruneserve.pruning.transformer.FfnGroup;
import dev.pruneserve.pruning.transformer.GatedMlpDiscovery;
import dev.pruneserve.pruning.transformer.Surgery;
import dev.pruneserve.repository.DemoRepository;
import dev.pruneserve.repository.ModelRepository;
import dev.pruneserve.runtime.OrtRuntime;
import dev.pruneserve.session.ModelSession;
import dev.pruneserve.tensor.Tensor;
import dev.pruneserve.testing.Stories15mModels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The bundled demo-mlp (16→64→64→4 ReLU MLP, MatMul + Add layers): its two hidden layers are two
 * plain FFNs that share the middle weight (fc2 rows of the first, fc1 columns of the second). Every
 * weight-only criterion prunes it into a model that validates and whose output equals the dense
 * model with the removed channels' fc2 rows zeroed (allclose, atol = rtol = 1e-5).
 */
class PlainMlpPruningTest {
  static final double RATIO = 0.3;
  static final long SEED = 1;
  static final int BATCH = 3;
  static ModelProto dense;

  @TempDir static Path repo;
  @TempDir Path dir;

  @BeforeAll
  static void demo() throws Exception {
    DemoRepository.populateIfEmpty(new ModelRepository(repo));
    dense = ModelProto.parseFrom(Files.readAllBytes(
        repo.resolve(DemoRepository.DEMO_MODEL).resolve("1").resolve(ModelRepository.MODEL_FILE)));
  }

  @Test
  void discoversTwoOverlappingFeedForwardBlocks() {
    List<FfnGroup> ffns = FfnDiscovery.plainFfns(new OnnxGraph(dense));
    assertEquals(2, ffns.size());
    ffns.forEach(f -> assertEquals(64, f.width()));
    ffns.forEach(f -> assertTrue(f.bias1() != null));
    assertEquals(ffns.get(0).weight2(), ffns.get(1).weight1(), "the middle weight is in both groups");
  }

  @Test
  void removingNothingIsBitIdentical() throws Exception {
    OnnxGraph g = new OnnxGraph(dense);
    assertArrayEquals(output(dense), output(Surgery.removeFfnChannels(g, FfnDiscovery.plainFfns(g), Map.of())));
  }

  /** Different channels and counts per block: the shared weight keeps both its row and column slices. */
  @Test
  void zeroedChannelsRemovedGiveTheSameOutput() throws Exception {
    OnnxGraph g = new OnnxGraph(dense);
    List<FfnGroup> ffns = FfnDiscovery.plainFfns(g);
    SplittableRandom rng = new SplittableRandom(11);
    Map<Integer, BitSet> drop = new HashMap<>();
    ModelProto zeroed = dense;
    for (FfnGroup f : ffns) {
      BitSet c = new BitSet();
      while (c.cardinality() < 13 + 10 * f.index()) {
        c.set(rng.nextInt(f.width()));
      }
      drop.put(f.index(), c);
      zeroed = Surgery.zeroRows(zeroed, f.weight2(), c);
    }
    ModelProto pruned = Surgery.removeFfnChannels(g, ffns, drop);
    TensorProto shared = GatedMlpDiscovery.require(new OnnxGraph(pruned), ffns.get(0).weight2());
    assertEquals(List.of(64L - 13, 64L - 23), shared.getDimsList());
    assertDoesNotThrow(() -> ModelCheck.validate(pruned, OrtRuntime.cpu(1)));
    assertClose(output(zeroed), output(pruned));
  }

  @ParameterizedTest
  @EnumSource(Criterion.class)
  void everyWeightOnlyCriterionEqualsTheMaskedDenseModel(Criterion c) throws Exception {
    Pruner.Result r = Pruner.prune(dense, new Pruner.Options(c, RATIO, SEED, 0, -1));
    assertDoesNotThrow(() -> ModelCheck.validate(r.model(), OrtRuntime.cpu(1)), c.name());
    // the channels Pruner removes: the same scores and counts, on the dense graph
    OnnxGraph g = new OnnxGraph(dense);
    ModelProto masked = dense;
    List<Integer> widths = new ArrayList<>();
    for (FfnGroup f : FfnDiscovery.plainFfns(g)) {
      int n = Math.min(f.width() - 1, c.channelsToRemove(RATIO, f.width()));
      masked = Surgery.zeroRows(masked, f.weight2(), Pruner.lowest(c.ffn(g, f, SEED), n));
      widths.add(f.width() - n);
    }
    assertEquals(widths, r.channelsPerLayer(), c.name());
    assertTrue(r.parametersAfter() < r.parametersBefore(), c.name());
    float[] pruned = output(r.model());
    assertEquals(BATCH * 4, pruned.length, c.name());
    assertClose(output(masked), pruned);
  }

  /** The RPC / CLI path: method by name, then ModelCheck (where the bug surfaced as INTERNAL). */
  @ParameterizedTest
  @ValueSource(strings = {"random", "magnitude-sp", "magnitude-l1", "magnitude-l2"})
  void everyWeightOnlyMethodPrunesTheDemo(String method) throws Exception {
    Pruner.Result r = PruneMethods.apply(dense, PruneRecipe.of(method, RATIO), null, OrtRuntime.cpu(1));
    assertEquals(2, r.channelsPerLayer().size(), method);
    r.channelsPerLayer().forEach(w -> assertTrue(w > 0 && w < 64, method + ": " + r.channelsPerLayer()));
    assertEquals(BATCH * 4, output(r.model()).length, method);
  }

  private static void assertClose(float[] a, float[] b) {
    assertEquals(a.length, b.length);
    float max = dev.pruneserve.testing.Reference.maxScaledDiff(a, b);
    assertTrue(max <= 1e-5f, "max |masked - pruned| / (1 + |y|) = " + max);
  }

  /** y for a fixed batch of {@link #BATCH} random inputs x [BATCH, 16]. */
  private float[] output(ModelProto m) throws Exception {
    SplittableRandom rng = new SplittableRandom(3);
    float[] x = new float[BATCH * 16];
    for (int i = 0; i < x.length; i++) {
      x[i] = (float) (rng.nextDouble() * 2 - 1);
    }
    try (ModelSession s = Stories15mModels.load(dir, m, "mlp")) {
      return s.run(Map.of("x", Tensor.fp32("x", new long[] {BATCH, 16}, x)), Set.of("y")).get("y").toFloatArray();
    }
  }
}
