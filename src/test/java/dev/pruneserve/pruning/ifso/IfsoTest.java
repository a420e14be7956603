package dev.pruneserve.pruning.ifso;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pruneserve.onnx.proto.Onnx.ModelProto;
import dev.pruneserve.pruning.Progress;
import dev.pruneserve.pruning.cnn.ChannelDiscovery;
import dev.pruneserve.pruning.cnn.ChannelGroup;
import dev.pruneserve.pruning.cnn.ChannelSurgery;
import dev.pruneserve.runtime.OrtRuntime;
import dev.pruneserve.session.ModelSession;
import dev.pruneserve.tensor.Tensor;
import dev.pruneserve.testing.TestCnns;
import dev.pruneserve.train.ImageSet;
import dev.pruneserve.train.ResNet;
import dev.pruneserve.train.TrainingGraph;
import dev.pruneserve.train.TrainingSession;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.BitSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * IFSO's harness: masks that stand for channels (zeroing a channel's entries = removing it, also
 * through residual groups, depthwise convs, Concat, squeeze-excite and Flatten→Gemm), the FLOPs
 * bookkeeping, the estimator's internal consistency, and both pruning modes to a FLOPs target.
 */
class IfsoTest {
  @TempDir Path dir;

  private static ImageSet random(int n, int c, int size, int classes, long seed) {
    return TestCnns.randomImages(n, c, size, classes, seed);
  }

  @Test
  void maskingAChannelEqualsRemovingIt() throws Exception {
    ModelProto dense = TestCnns.cnn(3, false);
    ImageSet data = random(4, 3, 16, 5, 1);
    int[] order = {0, 1, 2, 3};
    List<ChannelGroup> groups = ChannelDiscovery.discover(dense).groups();
    try (TrainingSession s = TrainingSession.open(dense, 4, OrtRuntime.cpu(1), dir)) {
      ChannelMasks where = new ChannelMasks(dense, groups, s.graph().masks());
      Map<String, Tensor> batch = s.batchFeeds(data, order, 0);
      for (int g = 0; g < groups.size(); g++) {
        int c = groups.get(g).channels() / 2;
        where.set(s.masks(), s.graph().masks(), g, c, 0f);
        double masked = s.maskGradients(batch, s.params()).get(TrainingGraph.LOSS)[0];
        where.set(s.masks(), s.graph().masks(), g, c, 1f);
        BitSet one = new BitSet();
        one.set(c);
        ModelProto removed = ChannelSurgery.remove(dense, Map.of(groups.get(g), one)).model();
        try (TrainingSession p = TrainingSession.open(removed, 4, OrtRuntime.cpu(1), dir)) {
          double loss = p.maskGradients(p.batchFeeds(data, order, 0), p.params()).get(TrainingGraph.LOSS)[0];
          assertEquals(loss, masked, 1e-5, groups.get(g).label() + " channel " + c);
        }
        CnnCost cost = new CnnCost(dense, where, s.graph().masks(), 4);
        cost.remove(g, c);
        assertEquals(CnnCost.macs(removed), cost.flops(), 1e-6 * cost.flops(), "FLOPs after removing from "
            + groups.get(g).label());
      }
    }
  }

  @Test
  void hessianVectorProductsAreConsistent() throws Exception {
    // v = H_wm·1/λ and t = H_mw·v, so 1ᵀt = (H_wm·1)ᵀv = λ‖v‖²: the two finite-difference stages agree
    ModelProto dense = ResNet.build("tiny", 4, 2, 8, 3, 1, 4, 6, 8);
    ImageSet data = random(8, 2, 8, 3, 2);
    try (TrainingSession s = TrainingSession.open(dense, 8, OrtRuntime.cpu(1), dir)) {
      ChannelScorer.Hvp h = ChannelScorer.hvp(s, s.batchFeeds(data, data.shuffled(1), 0), 1e-2, 1e-4);
      double sum = 0;
      for (float[] t : h.t()) {
        for (float x : t) {
          sum += x;
        }
      }
      double expected = 1e-4 * h.vNormSquared();
      assertTrue(expected > 0);
      assertEquals(expected, sum, 0.05 * expected, "1ᵀ(M·1) vs λ‖v‖²");
    }
  }

  @Test
  void oneShotIfsoMeetsTheFlopsTarget() throws Exception {
    ModelProto dense = ResNet.build("tiny", 5, 2, 8, 3, 1, 6, 8, 12);
    ImageSet data = random(64, 2, 8, 3, 3);
    Ifso.Options o = new Ifso.Options(Ifso.Criterion.IFSO, Ifso.Mode.ONE_SHOT, 0.6, 16, 1, 1, 4, 1e-2, 1e-4, 0, 7);
    Ifso.Outcome out = Ifso.prune(dense, data, o, OrtRuntime.cpu(1), dir, Progress.NONE);
    assertTrue(out.flopsAfter() <= 0.6 * out.flopsBefore(), out.flopsAfter() + " of " + out.flopsBefore());
    assertEquals(CnnCost.macs(dense), out.flopsBefore(), 1e-6 * out.flopsBefore());
    assertEquals(CnnCost.macs(out.model()), out.flopsAfter(), 1e-6 * out.flopsAfter());
    assertTrue(out.widths().stream().allMatch(w -> w >= 1), out.widths().toString());
    assertEquals(2, out.model().getGraph().getInitializerList().stream().filter(t -> t.getName().equals(
        "conv0.weight")).findFirst().orElseThrow().getDims(1), "the network input's channels are never pruned");
    assertTrue(out.removals() > 0 && out.scoredBatches() == (out.removals() + 3) / 4);
    Path f = dir.resolve("pruned.onnx");
    Files.write(f, out.model().toByteArray());
    try (ModelSession m = OrtRuntime.cpu(1).load("pruned/1", f)) {
      Tensor x = Tensor.fp32("x", new long[] {2, 2, 8, 8}, java.util.Arrays.copyOf(data.pixels(), 256));
      assertEquals(List.of(2L, 3L), java.util.Arrays.stream(m.run(Map.of("x", x), Set.of("logits")).get("logits")
          .shape()).boxed().toList());
    }
  }

  @Test
  void trainModePrunesWhileTraining() throws Exception {
    ModelProto dense = ResNet.build("tiny", 5, 2, 8, 3, 1, 6, 8, 12);
    ImageSet data = random(64, 2, 8, 3, 3);
    Ifso.Options o = new Ifso.Options(Ifso.Criterion.IFSO, Ifso.Mode.TRAIN, 0.7, 16, 1, 2, 1, 1e-2, 1e-4, 0.05, 7);
    Ifso.Outcome out = Ifso.prune(dense, data, o, OrtRuntime.cpu(1), dir, Progress.NONE);
    assertTrue(out.flopsAfter() <= 0.7 * out.flopsBefore());
    assertEquals(2 * out.removals(), out.scoredBatches(), "one scoring batch per iteration, a removal every 2");
    assertTrue(out.trainingSeconds() > 0);
    // the surviving weights trained: the first conv (never pruned) changed
    assertTrue(!dense.getGraph().getInitializer(0).equals(out.model().getGraph().getInitializer(0)));
  }

  @Test
  void taylorIsDeterministicForASeed() throws Exception {
    ModelProto dense = ResNet.build("tiny", 6, 2, 8, 3, 1, 6, 8, 12);
    ImageSet data = random(64, 2, 8, 3, 4);
    Ifso.Options o = new Ifso.Options(Ifso.Criterion.TAYLOR, Ifso.Mode.ONE_SHOT, 0.5, 16, 1, 2, 1000, 1e-2, 1e-4, 0,
        7);
    Ifso.Outcome a = Ifso.prune(dense, data, o, OrtRuntime.cpu(1), dir, Progress.NONE);
    Ifso.Outcome b = Ifso.prune(dense, data, o, OrtRuntime.cpu(1), dir, Progress.NONE);
    assertEquals(a.widths(), b.widths(), "same seed, same batches, same removals");
    assertEquals(2, a.scoredBatches(), "scored once (rescore-every larger than the removals)");
    assertTrue(a.flopsAfter() <= 0.5 * a.flopsBefore());
  }
}
