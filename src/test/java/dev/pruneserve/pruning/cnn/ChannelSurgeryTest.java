package dev.pruneserve.pruning.cnn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pruneserve.graph.ModelBuilder;
import dev.pruneserve.onnx.proto.Onnx.ModelProto;
import dev.pruneserve.onnx.proto.Onnx.NodeProto;
import dev.pruneserve.runtime.OrtRuntime;
import dev.pruneserve.session.ModelSession;
import dev.pruneserve.tensor.Tensor;
import dev.pruneserve.testing.TestCnns;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.BitSet;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Surgery against ONNX Runtime on random inputs: removing nothing is bit-identical; zeroing a
 * channel selection everywhere it lives and then removing it gives the same outputs within 1e-5
 * (per group and all groups at once, GAP and Flatten heads, with an unknown op in the graph);
 * parameter counts match a hand computation; a group is never emptied.
 */
class ChannelSurgeryTest {
  static final float ATOL = 1e-5f;

  @TempDir Path dir;
  private int loads;

  @Test
  void removingNothingIsBitIdentical() throws Exception {
    ModelProto m = TestCnns.cnn(1, false);
    Map<ChannelGroup, BitSet> none = new HashMap<>();
    ChannelDiscovery.discover(m).groups().forEach(g -> none.put(g, new BitSet()));
    ChannelSurgery.Pruned p = ChannelSurgery.remove(m, none);
    assertEquals(p.before(), p.after());
    assertArrayEquals(run(m, 16), run(p.model(), 16));
  }

  @Test
  void zeroedThenRemovedGivesTheSameOutputsForEachGroup() throws Exception {
    ModelProto m = TestCnns.cnn(2, false);
    SplittableRandom rng = new SplittableRandom(5);
    for (ChannelGroup g : ChannelDiscovery.discover(m).groups()) {
      assertEquivalent(m, Map.of(g, subset(rng, g.channels())), 16);
    }
  }

  @Test
  void zeroedThenRemovedGivesTheSameOutputsForAllGroupsAtOnce() throws Exception {
    ModelProto m = TestCnns.cnn(3, false);
    ChannelDependencies d = ChannelDiscovery.discover(m);
    Map<ChannelGroup, BitSet> drop = subsets(d, new SplittableRandom(6));
    ModelProto pruned = assertEquivalent(m, drop, 16);
    int dwLeft = 8 - drop.get(ChannelDiscoveryTest.owner(d, "stem.w")).cardinality();
    NodeProto dw = pruned.getGraph().getNodeList().stream()
        .filter(n -> n.getInputCount() > 1 && n.getInput(1).equals("dw.w")).findFirst().orElseThrow();
    assertEquals(dwLeft,
        dw.getAttributeList().stream().filter(a -> a.getName().equals("group")).findFirst().orElseThrow().getI());
  }

  @Test
  void flattenHeadsMatMulAndGemmPruneEquivalently() throws Exception {
    for (boolean gemm : new boolean[] {false, true}) {
      ModelProto m = TestCnns.flatHead(4, gemm);
      assertEquivalent(m, subsets(ChannelDiscovery.discover(m), new SplittableRandom(7)), 8);
    }
  }

  @Test
  void otherGroupsStillPruneAroundAnUnknownOp() throws Exception {
    ModelProto m = TestCnns.cnn(8, true);
    ChannelDependencies d = ChannelDiscovery.discover(m);
    assertTrue(d.notPrunable().stream().anyMatch(n -> n.opType().equals("LpNormalization")),
        d.notPrunable().toString());
    assertEquals(6, d.groups().size());
    assertEquivalent(m, subsets(d, new SplittableRandom(9)), 16);
  }

  @Test
  void thirdPartyPatternsPruneEquivalentlyInEveryStorageForm() throws Exception {
    ModelProto m = TestCnns.thirdParty(3);
    Map<ChannelGroup, BitSet> drop = subsets(ChannelDiscovery.discover(m), new SplittableRandom(4));
    assertEquivalent(m, drop, 16);
    ModelProto cast = TestCnns.castWeights(m);
    ModelProto pruned = assertEquivalent(cast, subsets(ChannelDiscovery.discover(cast), new SplittableRandom(4)), 16);
    assertTrue(pruned.getGraph().getInitializerList().stream().filter(t -> t.getDimsCount() == 4)
        .allMatch(t -> t.getDataType() == 10), "FP16 weights stay FP16 behind their Cast");
    Map<ChannelGroup, BitSet> none = new HashMap<>();
    ChannelDiscovery.discover(cast).groups().forEach(g -> none.put(g, new BitSet()));
    assertArrayEquals(run(cast, 16), run(ChannelSurgery.remove(cast, none).model(), 16));
  }

  @Test
  void channelsLastStretchesPruneEquivalently() throws Exception {
    for (ModelProto m : new ModelProto[] {TestCnns.nhwc(5), TestCnns.nhwcHead(6)}) {
      ChannelDependencies d = ChannelDiscovery.discover(m);
      Map<ChannelGroup, BitSet> none = new HashMap<>();
      d.groups().forEach(g -> none.put(g, new BitSet()));
      assertArrayEquals(run(m, 8), run(ChannelSurgery.remove(m, none).model(), 8), "removing nothing");
      assertEquivalent(m, subsets(d, new SplittableRandom(8)), 8);
    }
  }

  @Test
  void perChannelConstantsOnOneDimensionalMapsAreSliced() throws Exception {
    ModelProto m = TestCnns.conv1d(9);
    ChannelDependencies d = ChannelDiscovery.discover(m);
    assertTrue(ChannelDiscoveryTest.slices(ChannelDiscoveryTest.owner(d, "c1.w")).contains("scale/0+0x1"),
        "a [6, 1] constant on a [N, 6, L] map is per channel: " + d);
    assertEquivalent(m, subsets(d, new SplittableRandom(10)), 16);
  }

  @Test
  void parameterCountsMatchAHandComputation() throws Exception {
    ModelProto m = TestCnns.flatHead(4, false);
    ChannelDependencies d = ChannelDiscovery.discover(m);
    BitSet c1 = new BitSet();
    c1.set(0);
    c1.set(3);
    BitSet c2 = new BitSet();
    c2.set(4);
    ChannelSurgery.Pruned p = ChannelSurgery.remove(m, Map.of(ChannelDiscoveryTest.owner(d, "c1.w"), c1,
        ChannelDiscoveryTest.owner(d, "c2.w"), c2));
    // c1 6·3·3·3 + 6, c2 5·6·3·3 + 5, fc 80·7 + 7; then c1 4·27 + 4, c2 4·4·9 + 4, fc 64·7 + 7
    assertEquals(new ParamCount(1010, 4040), p.before());
    assertEquals(new ParamCount(715, 2860), p.after());
    assertEquals(7, run(p.model(), 8).length / 2);
  }

  @Test
  void refusesToEmptyAGroupOrGoOutOfRange() {
    ModelProto m = TestCnns.cnn(1, false);
    ChannelGroup g = ChannelDiscovery.discover(m).groups().get(2);
    BitSet all = new BitSet();
    all.set(0, g.channels());
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> ChannelSurgery.remove(m, Map.of(g, all)));
    assertTrue(e.getMessage().startsWith(g.label() + ": refusing to remove all"), e.getMessage());
    BitSet out = new BitSet();
    out.set(g.channels());
    e = assertThrows(IllegalArgumentException.class, () -> ChannelSurgery.remove(m, Map.of(g, out)));
    assertTrue(e.getMessage().contains("channel " + g.channels() + " out of range"), e.getMessage());
  }

  /** Zeroes then removes {@code drop}; outputs agree within {@link #ATOL}; returns the pruned model. */
  private ModelProto assertEquivalent(ModelProto m, Map<ChannelGroup, BitSet> drop, int side) throws Exception {
    ModelProto zeroed = ChannelSurgery.zero(m, drop);
    ChannelSurgery.Pruned pruned = ChannelSurgery.remove(m, drop);
    assertTrue(pruned.after().parameters() < pruned.before().parameters());
    float[] dense = run(m, side);
    float[] z = run(zeroed, side);
    float[] p = run(pruned.model(), side);
    assertEquals(z.length, p.length);
    float max = 0;
    for (int i = 0; i < z.length; i++) {
      max = Math.max(max, Math.abs(z[i] - p[i]));
    }
    assertTrue(max <= ATOL, "max |zeroed - pruned| = " + max + " removing " + describe(drop));
    assertFalse(java.util.Arrays.equals(dense, z), "zeroing changed nothing: the test would be vacuous");
    return pruned.model();
  }

  private static String describe(Map<ChannelGroup, BitSet> drop) {
    StringBuilder b = new StringBuilder();
    drop.forEach((g, bits) -> b.append(g.label()).append(' ').append(bits).append("; "));
    return b.toString();
  }

  /** A seeded random non-empty proper subset of each group. */
  private static Map<ChannelGroup, BitSet> subsets(ChannelDependencies d, SplittableRandom rng) {
    Map<ChannelGroup, BitSet> drop = new HashMap<>();
    d.groups().forEach(g -> drop.put(g, subset(rng, g.channels())));
    return drop;
  }

  private static BitSet subset(SplittableRandom rng, int channels) {
    BitSet b = new BitSet();
    int count = 1 + rng.nextInt(channels - 1);
    while (b.cardinality() < count) {
      b.set(rng.nextInt(channels));
    }
    return b;
  }

  /** Output 0 of {@code m} on a fixed random x[2, 3, side, side] (x[2, 3, side] for a rank-3 input). */
  private float[] run(ModelProto m, int side) throws Exception {
    Path f = dir.resolve("m" + loads++ + ".onnx");
    Files.write(f, m.toByteArray());
    boolean oneD = m.getGraph().getInput(0).getType().getTensorType().getShape().getDimCount() == 3;
    long[] shape = oneD ? new long[] {2, 3, side} : new long[] {2, 3, side, side};
    float[] x = ModelBuilder.uniform(new SplittableRandom(42), oneD ? 6 * side : 6 * side * side, 1.0);
    String out = m.getGraph().getOutput(0).getName();
    try (ModelSession s = OrtRuntime.cpu(1).load("cnn/1", f)) {
      return s.run(Map.of("x", Tensor.fp32("x", shape, x)), Set.of(out)).get(out).toFloatArray();
    }
  }
}
