package dev.pruneserve.pruning.cnn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pruneserve.graph.FloatTensors;
import dev.pruneserve.onnx.proto.Onnx.ModelProto;
import dev.pruneserve.onnx.proto.Onnx.TensorProto;
import dev.pruneserve.onnx.proto.Onnx.ValueInfoProto;
import dev.pruneserve.pruning.Progress;
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
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Wanda-style CNN channel scores from unlabelled images against a reference computed here: the
 * consumers' input activations fetched as plain outputs, their per-channel RMS and the weights'
 * mean |W| multiplied in Java; then wanda-sp prunes a CNN from an images.npy without labels.
 */
class ActivationScoresTest {
  @TempDir Path dir;

  @Test
  void scoresAreMeanAbsWeightTimesInputRms() throws Exception {
    ModelProto m = TestCnns.cnn(4, false);
    ImageSet images = TestCnns.randomImages(20, 3, 16, 5, 7);
    ChannelDependencies deps = ChannelDiscovery.discover(m);
    List<double[]> got = ActivationScores.wanda(m, deps, images, OrtRuntime.cpu(1), dir, Progress.NONE);
    // reference for the group produced by "res1" (read by res2 only): Σ_o,k |W_res2[o, c]| / (O·k·k) · RMS(res1.a_c)
    ChannelGroup g = ChannelDiscoveryTest.owner(deps, "res1.w");
    float[] act = activation(m, "res1.a", images);
    TensorProto w = m.getGraph().getInitializerList().stream().filter(t -> t.getName().equals("res2.w")).findFirst()
        .orElseThrow();
    FloatBuffer wv = FloatTensors.values(w);
    int o = (int) w.getDims(0);
    int c = (int) w.getDims(1);
    int kk = (int) (w.getDims(2) * w.getDims(3));
    int hw = act.length / (images.size() * c);
    double[] want = new double[c];
    for (int ch = 0; ch < c; ch++) {
      double abs = 0;
      for (int oo = 0; oo < o; oo++) {
        for (int k = 0; k < kk; k++) {
          abs += Math.abs(wv.get((oo * c + ch) * kk + k));
        }
      }
      double sq = 0;
      for (int n = 0; n < images.size(); n++) {
        for (int p = 0; p < hw; p++) {
          double x = act[(n * c + ch) * hw + p];
          sq += x * x;
        }
      }
      want[ch] = abs / (o * kk) * Math.sqrt(sq / (images.size() * hw));
    }
    double[] s = got.get(deps.groups().indexOf(g));
    for (int ch = 0; ch < c; ch++) {
      assertEquals(want[ch], s[ch], 1e-4 * Math.abs(want[ch]) + 1e-7, "channel " + ch);
    }
  }

  @Test
  void wandaSpPrunesACnnFromUnlabelledImages() throws Exception {
    ModelProto m = TestCnns.thirdParty(5);
    ImageSet images = TestCnns.randomImages(12, 3, 16, 5, 9);
    Path data = Files.createDirectories(dir.resolve("unlabelled"));
    float[] px = images.pixels();
    NpyFiles.write(data.resolve("images.npy"), "<f4", false, new long[] {12, 3, 16, 16}, NpyFiles.float32(px));
    Pruner.Result r = PruneMethods.apply(m, RecipeParser.parse("wanda-sp", 0.25, Map.of("images", "dir:" + data)),
        null, OrtRuntime.cpu(1));
    assertTrue(r.parametersAfter() < r.parametersBefore());
    assertEquals(List.of(6, 9, 1, 4, 7), r.channelsPerLayer()); // C - int(0.75 C)
    var e = assertThrows(dev.pruneserve.error.ServingException.class, () -> PruneMethods.apply(m, RecipeParser.parse(
        "magnitude-l1", 0.25, Map.of("images", "dir:" + data, "recover-steps", "2")), null, OrtRuntime.cpu(1)));
    assertTrue(e.getMessage().contains("needs labelled images"), e.getMessage());
  }

  /** Value {@code name} of {@code m} on all images, fetched as an extra graph output. */
  private float[] activation(ModelProto m, String name, ImageSet images) throws Exception {
    ModelProto out = m.toBuilder().setGraph(m.getGraph().toBuilder().addOutput(ValueInfoProto.newBuilder().setName(
        name))).build();
    Path f = dir.resolve("act.onnx");
    Files.write(f, out.toByteArray());
    try (ModelSession s = OrtRuntime.cpu(1).load("act/1", f)) {
      return s.run(Map.of("x", dev.pruneserve.tensor.Tensor.fp32("x", new long[] {images.size(), 3, 16, 16}, images
          .pixels())), Set.of(name)).get(name).toFloatArray();
    }
  }
}
