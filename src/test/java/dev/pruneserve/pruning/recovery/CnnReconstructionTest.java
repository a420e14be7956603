package dev.pruneserve.pruning.recovery;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pruneserve.graph.FloatTensors;
import dev.pruneserve.onnx.proto.Onnx.GraphProto;
import dev.pruneserve.onnx.proto.Onnx.ModelProto;
import dev.pruneserve.onnx.proto.Onnx.TensorProto;
import dev.pruneserve.pruning.Progress;
import dev.pruneserve.pruning.cnn.ChannelDependencies;
import dev.pruneserve.pruning.cnn.ChannelDiscovery;
import dev.pruneserve.pruning.cnn.ChannelGroup;
import dev.pruneserve.pruning.cnn.ChannelSurgery;
import dev.pruneserve.pruning.cnn.CutRecord;
import dev.pruneserve.pruning.criteria.Pruner;
import dev.pruneserve.pruning.methods.PruneMethods;
import dev.pruneserve.pruning.methods.RecipeParser;
import dev.pruneserve.runtime.OrtRuntime;
import dev.pruneserve.session.ModelSession;
import dev.pruneserve.testing.NpyFiles;
import dev.pruneserve.testing.TestCnns;
import dev.pruneserve.train.ImageSet;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.BitSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * CNN reconstruction on generated models: nothing removed changes nothing; channels that duplicate
 * others (a Conv filter and, downstream, a filter of the next Conv) are removed and the next Conv
 * (itself pruned on its output side) and the Gemm / MatMul head are re-fitted so the dense output
 * comes back to 1e-4; through the recipe on a real prune the reconstructed model is closer to
 * dense on unseen images, and the cut record never reaches the stored model.
 */
class CnnReconstructionTest {
  @TempDir Path dir;

  @Test
  void removingNothingChangesNothing() throws Exception {
    ModelProto m = TestCnns.flatHead(3, true);
    Reconstruction.Result r = CnnReconstruction.run(m, m, Map.of(), TestCnns.randomImages(8, 3, 8, 7, 1),
        settings(1e-6), OrtRuntime.cpu(1), dir, Progress.NONE);
    assertSame(m, r.model());
    assertTrue(r.projections().isEmpty());
  }

  @ParameterizedTest
  @ValueSource(booleans = {true, false})
  void duplicatedChannelsAreRemovedAndTheDenseOutputRecovered(boolean gemm) throws Exception {
    ModelProto base = TestCnns.flatHead(3, gemm);
    // c1 filter 4 = filter 1 (so its activation is a copy); then c2 filter 3 = filter 0
    ModelProto dense = copyRow(copyRow(copyRow(copyRow(base, "c1.w", 1, 4), "c1.b", 1, 4), "c2.w", 0, 3), "c2.b", 0,
        3);
    ChannelDependencies deps = ChannelDiscovery.discover(dense);
    Map<ChannelGroup, BitSet> drop = new LinkedHashMap<>();
    drop.put(owner(deps, "c1.w"), bits(4));
    drop.put(owner(deps, "c2.w"), bits(3));
    ModelProto cut = ChannelSurgery.remove(dense, drop).model();
    ModelProto pruned = CutRecord.strip(cut);
    ImageSet images = TestCnns.randomImages(256, 3, 8, 7, 11);
    Reconstruction.Result r = CnnReconstruction.run(dense, pruned, CutRecord.read(cut), images, settings(1e-9),
        OrtRuntime.cpu(1), dir, Progress.NONE);
    assertEquals(List.of("c2.w", "fc.w"), r.projections().stream().map(e -> e.get("weight")).toList());
    ImageSet unseen = TestCnns.randomImages(16, 3, 8, 7, 99);
    double worst = maxDiff(run(dense, unseen), run(r.model(), unseen));
    double before = maxDiff(run(dense, unseen), run(pruned, unseen));
    assertTrue(worst < 1e-4, "reconstructed max |Δ| " + worst + " (pruned: " + before + ")");
    assertTrue(before > 1e-2, "the removal mattered: " + before);
  }

  @Test
  void theRecipeReconstructsARealPruneFromUnlabelledImages() throws Exception {
    ModelProto dense = TestCnns.cnn(4, false);
    ImageSet images = TestCnns.randomImages(96, 3, 16, 5, 7);
    Path data = Files.createDirectories(dir.resolve("unlabelled"));
    NpyFiles.write(data.resolve("images.npy"), "<f4", false, new long[] {96, 3, 16, 16}, NpyFiles.float32(images
        .pixels()));
    Map<String, String> base = Map.of("images", "dir:" + data, "recalibrate-bn", "false");
    Pruner.Result plain = PruneMethods.apply(dense, RecipeParser.parse("magnitude-l1", 0.4, base), null, OrtRuntime
        .cpu(1));
    Map<String, String> o = new LinkedHashMap<>(base);
    o.put("reconstruct", "true");
    Pruner.Result rec = PruneMethods.apply(dense, RecipeParser.parse("magnitude-l1", 0.4, o), null, OrtRuntime.cpu(1));
    assertEquals(plain.channelsPerLayer(), rec.channelsPerLayer(), "the same channels are kept");
    assertTrue(rec.model().getMetadataPropsList().stream().noneMatch(e -> e.getKey().startsWith("pruneserve.")),
        "the cut record is stripped");
    List<?> done = (List<?>) rec.details().get("reconstructed");
    assertTrue(done.size() >= 4, "re-fitted layers: " + done);
    ImageSet unseen = TestCnns.randomImages(32, 3, 16, 5, 123);
    float[] want = run(dense, unseen);
    double errPlain = squared(want, run(plain.model(), unseen));
    double errRec = squared(want, run(rec.model(), unseen));
    assertTrue(errRec < 0.5 * errPlain, "squared logit error " + errRec + " vs " + errPlain);
    var e = assertThrows(dev.pruneserve.error.ServingException.class, () -> PruneMethods.apply(dense, RecipeParser
        .parse("magnitude-l1", 0.4, Map.of("reconstruct", "true")), null, OrtRuntime.cpu(1)));
    assertTrue(e.getMessage().contains("needs calibration.images"), e.getMessage());
  }

  @Test
  void aChannelsLastModelPrunesByActivationsAndReconstructs() throws Exception {
    ModelProto dense = TestCnns.nhwcHead(7);
    ImageSet images = TestCnns.randomImages(128, 3, 8, 5, 3);
    Path data = Files.createDirectories(dir.resolve("nhwc"));
    NpyFiles.write(data.resolve("images.npy"), "<f4", false, new long[] {128, 3, 8, 8}, NpyFiles.float32(images
        .pixels()));
    Pruner.Result plain = PruneMethods.apply(dense, RecipeParser.parse("wanda-sp", 0.4, Map.of("images", "dir:"
        + data)), null, OrtRuntime.cpu(1));
    Pruner.Result rec = PruneMethods.apply(dense, RecipeParser.parse("wanda-sp", 0.4, Map.of("images", "dir:" + data,
        "reconstruct", "true")), null, OrtRuntime.cpu(1));
    assertEquals(plain.channelsPerLayer(), rec.channelsPerLayer());
    assertTrue(rec.parametersAfter() < rec.parametersBefore());
    ImageSet unseen = TestCnns.randomImages(32, 3, 8, 5, 321);
    float[] want = run(dense, unseen);
    double errPlain = squared(want, run(plain.model(), unseen));
    double errRec = squared(want, run(rec.model(), unseen));
    assertTrue(errRec < errPlain, "squared logit error " + errRec + " vs " + errPlain);
  }

  private static ReconstructSettings settings(double lambda) {
    return new ReconstructSettings(ReconstructSettings.Mode.SEQUENTIAL, ReconstructSettings.Projections.BOTH, lambda,
        0);
  }

  private static ChannelGroup owner(ChannelDependencies deps, String producerWeight) {
    return deps.groups().stream().filter(g -> g.slices().stream().anyMatch(s -> s.initializer().equals(producerWeight)
        && s.axis() == 0)).findFirst().orElseThrow();
  }

  private static BitSet bits(int i) {
    BitSet b = new BitSet();
    b.set(i);
    return b;
  }

  private float[] run(ModelProto m, ImageSet images) throws Exception {
    Path f = dir.resolve("m" + System.nanoTime() + ".onnx");
    Files.write(f, m.toByteArray());
    try (ModelSession s = OrtRuntime.cpu(1).load("m/1", f)) {
      String out = m.getGraph().getOutput(0).getName();
      return s.run(Map.of("x", dev.pruneserve.tensor.Tensor.fp32("x", new long[] {images.size(), images.channels(),
          images.height(), images.width()}, images.pixels())), Set.of(out)).get(out).toFloatArray();
    }
  }

  private static double maxDiff(float[] a, float[] b) {
    double w = 0;
    for (int i = 0; i < a.length; i++) {
      w = Math.max(w, Math.abs(a[i] - b[i]));
    }
    return w;
  }

  private static double squared(float[] a, float[] b) {
    double s = 0;
    for (int i = 0; i < a.length; i++) {
      s += (a[i] - b[i]) * (a[i] - b[i]);
    }
    return s;
  }

  /** {@code m} with slice {@code from} of initializer {@code name} along axis 0 copied to slice {@code to}. */
  private static ModelProto copyRow(ModelProto m, String name, int from, int to) {
    GraphProto.Builder g = m.getGraph().toBuilder();
    for (int i = 0; i < g.getInitializerCount(); i++) {
      TensorProto t = g.getInitializer(i);
      if (t.getName().equals(name)) {
        FloatBuffer f = FloatTensors.values(t);
        float[] v = new float[f.remaining()];
        f.get(v);
        int row = (int) (v.length / t.getDims(0));
        System.arraycopy(v, from * row, v, to * row, row);
        g.setInitializer(i, FloatTensors.tensor(name, t.getDataType(), v, t.getDimsList().stream().mapToLong(
            Long::longValue).toArray()));
      }
    }
    return m.toBuilder().setGraph(g).build();
  }
}
