package dev.pruneserve.pruning.ifso;

import static dev.pruneserve.graph.ModelBuilder.intAttr;
import static dev.pruneserve.graph.ModelBuilder.intsAttr;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.pruneserve.graph.ModelBuilder;
import dev.pruneserve.onnx.proto.Onnx.ModelProto;
import dev.pruneserve.pruning.cnn.ChannelDiscovery;
import dev.pruneserve.pruning.cnn.ChannelGroup;
import dev.pruneserve.train.TrainingGraph;
import java.util.BitSet;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * IFSO's removal choice and cost bookkeeping on a hand-built network whose answers are counted by
 * hand: x [N, 1, 8, 8] → Conv a (1→4, 3×3, 8×8 out) → Relu → Conv b (4→4, 3×3, stride 2, 4×4 out)
 * → Relu → GlobalAveragePool → Flatten → Gemm with {@code transB = 0} (W [4, 3]).
 */
class IfsoSelectionTest {
  static final int N = 2;

  static ModelProto network() {
    ModelBuilder b = new ModelBuilder("sel").input("x", 1, "N", 1L, 8L, 8L);
    b.initializer("a.w", new float[4 * 9], 4, 1, 3, 3).initializer("b.w", new float[4 * 4 * 9], 4, 4, 3, 3);
    b.initializer("fc.w", new float[4 * 3], 4, 3);
    b.node("Conv", new String[] {"x", "a.w"}, new String[] {"a.y"}, intsAttr("kernel_shape", 3, 3),
        intsAttr("pads", 1, 1, 1, 1));
    b.node("Relu", new String[] {"a.y"}, new String[] {"a.r"});
    b.node("Conv", new String[] {"a.r", "b.w"}, new String[] {"b.y"}, intsAttr("kernel_shape", 3, 3),
        intsAttr("pads", 1, 1, 1, 1), intsAttr("strides", 2, 2));
    b.node("Relu", new String[] {"b.y"}, new String[] {"b.r"});
    b.node("GlobalAveragePool", new String[] {"b.r"}, new String[] {"gap"});
    b.node("Flatten", new String[] {"gap"}, new String[] {"flat"}, intAttr("axis", 1));
    b.node("Gemm", new String[] {"flat", "fc.w"}, new String[] {"y"}, intAttr("transB", 0));
    return b.output("y", 1, "N", 3L).build();
  }

  private final ModelProto model = network();
  private final List<ChannelGroup> groups = ChannelDiscovery.discover(model).groups();
  private final List<TrainingGraph.Mask> masks = TrainingGraph.masksOf(model);
  private final int ga = group("a.w");
  private final int gb = group("b.w");

  private int group(String weight) {
    for (int i = 0; i < groups.size(); i++) {
      if (groups.get(i).slices().stream().anyMatch(s -> s.initializer().equals(weight) && s.axis() == 0)) {
        return i;
      }
    }
    throw new AssertionError("no group produced by " + weight);
  }

  private CnnCost cost() {
    return new CnnCost(model, new ChannelMasks(model, groups, masks), masks, N);
  }

  @Test
  void flopsAndActivationsAreCountedIndependently() {
    CnnCost c = cost();
    // a: 8·8 · 3·3 · 1 · 4 = 2304; b: 4·4 · 3·3 · 4 · 4 = 2304; Gemm: 4 in · 3 out = 12
    assertEquals(2304 + 2304 + 12, c.flops(), 1e-9);
    assertEquals(N * 64, c.acts(ga), 1e-9, "a's channels free N·8·8 activations each");
    assertEquals(N * 16, c.acts(gb), 1e-9, "b's channels free N·4·4; the Gemm reads them, it does not produce them");
    c.remove(gb, 0);
    assertEquals(2304 + 4 * 4 * 9 * 4 * 3 + 3 * 3, c.flops(), 1e-9, "b loses an output, the Gemm an input");
    c.remove(ga, 0);
    assertEquals(8 * 8 * 9 * 3 + 4 * 4 * 9 * 3 * 3 + 3 * 3, c.flops(), 1e-9);
  }

  @Test
  void theSmallestNormalisedScoreGoesFirstZerosIncluded() {
    BitSet[] none = {new BitSet(), new BitSet()};
    double[][] scores = new double[groups.size()][];
    // normalised by √(Δacts): a's √(128) ≈ 11.3, b's √(32) ≈ 5.66 — a cheap b channel needs a lower score
    scores[ga] = new double[] {0.5, 0.0, 0.7, 0.9}; // channel 1 of a is dead (scored 0)
    scores[gb] = new double[] {0.3, 0.3, 0.2, 0.4};
    assertArrayEquals(new int[] {ga, 1}, Ifso.argmin(scores, none, cost()), "the dead channel first");
    scores[ga] = new double[] {0.5, 0.45, 0.7, 0.9};
    // 0.45 / 11.31 = 0.0398 vs 0.2 / 5.66 = 0.0354: b's channel 2 despite a's raw 0.45 > 0.2 being
    assertArrayEquals(new int[] {gb, 2}, Ifso.argmin(scores, none, cost()));
    scores[gb] = new double[] {0.25, 0.3, 0.3, 0.4}; // 0.25 / 5.66 = 0.0442 > 0.0398
    assertArrayEquals(new int[] {ga, 1}, Ifso.argmin(scores, none, cost()), "cost normalisation decides");
    scores[ga] = new double[] {0, 0, 0, 0}; // a module that scored nothing is not eligible (fisher.sum() > 0)
    assertArrayEquals(new int[] {gb, 0}, Ifso.argmin(scores, none, cost()));
    scores[gb] = new double[] {0.3, 0.3, 0.3, 0.3};
    assertArrayEquals(new int[] {gb, 0}, Ifso.argmin(scores, none, cost()), "equal scores: the first");
    BitSet[] removed = {new BitSet(), new BitSet()};
    removed[gb].set(0);
    assertArrayEquals(new int[] {gb, 1}, Ifso.argmin(scores, removed, cost()), "removed channels are skipped");
    CnnCost down = cost();
    for (int c = 0; c < 3; c++) {
      down.remove(gb, c);
    }
    assertThrows(IllegalArgumentException.class, () -> Ifso.argmin(scores, removed, down),
        "b keeps its last channel and a scored 0 everywhere");
  }

  /** TestCnns.flatHead: Conv 3→6 (stride 2, 4×4 out), Conv 6→5 (4×4), Flatten, Gemm transB = 1 [7, 80]. */
  @Test
  void flopsOfAFlattenGemmHeadAreCountedIndependently() {
    ModelProto flat = dev.pruneserve.testing.TestCnns.flatHead(1, true);
    List<ChannelGroup> gs = ChannelDiscovery.discover(flat).groups();
    List<TrainingGraph.Mask> ms = TrainingGraph.masksOf(flat);
    CnnCost c = new CnnCost(flat, new ChannelMasks(flat, gs, ms), ms, N);
    assertEquals(16 * 9 * 3 * 6 + 16 * 9 * 6 * 5 + 80 * 7, c.flops(), 1e-9);
    int c2 = -1;
    for (int i = 0; i < gs.size(); i++) {
      if (gs.get(i).slices().stream().anyMatch(sl -> sl.initializer().equals("c2.w") && sl.axis() == 0)) {
        c2 = i;
      }
    }
    c.remove(c2, 0);
    // c2 loses an output; the Gemm loses that channel's 4·4 flattened inputs
    assertEquals(16 * 9 * 3 * 6 + 16 * 9 * 6 * 4 + 64 * 7, c.flops(), 1e-9);
    assertEquals(N * 16, c.acts(c2), 1e-9);
  }
}
