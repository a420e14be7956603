package dev.pruneserve.pruning.cnn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pruneserve.onnx.proto.Onnx.ModelProto;
import dev.pruneserve.onnx.proto.Onnx.ValueInfoProto;
import dev.pruneserve.testing.TestCnns;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/**
 * Discovery on the generated CNNs: which groups exist and which initializer slices each couples
 * (residual Add, depthwise, BN, affine, Concat offsets, SE, GAP and Flatten heads).
 */
class ChannelDiscoveryTest {
  @Test
  void findsTheCoupledGroupsOfTheTestCnn() {
    ChannelDependencies d = ChannelDiscovery.discover(TestCnns.cnn(1, false));
    assertEquals(List.of(8, 8, 12, 6, 10, 16, 4), d.groups().stream().map(ChannelGroup::channels).toList());
    assertEquals(Set.of("stem.w/0+0x1", "stem.b/0+0x1", "bn.scale/0+0x1", "bn.b/0+0x1", "bn.mean/0+0x1",
        "bn.var/0+0x1", "res1.w/1+0x1", "res2.w/0+0x1", "res2.b/0+0x1", "dw.w/0+0x1", "dw.b/0+0x1", "pw.w/1+0x1"),
        slices(owner(d, "stem.w")));
    assertEquals(2, owner(d, "stem.w").producers().size()); // stem and res2 Conv, joined by the Add
    assertEquals(Set.of("pw.w/0+0x1", "pw.b/0+0x1", "aff.gamma/1+0x1", "aff.beta/1+0x1", "br1.w/1+0x1",
        "br2.w/1+0x1"), slices(owner(d, "pw.w")));
    assertEquals(Set.of("br2.w/0+0x1", "br2.b/0+0x1", "fuse.w/1+6x1"), slices(owner(d, "br2.w")));
    assertEquals(Set.of("br1.w/0+0x1", "br1.b/0+0x1", "fuse.w/1+0x1"), slices(owner(d, "br1.w")));
    assertEquals(Set.of("fuse.w/0+0x1", "fuse.b/0+0x1", "se1.w/1+0x1", "se2.w/0+0x1", "se2.b/0+0x1",
        "fc.w/1+0x1"), slices(owner(d, "fuse.w")));
    assertEquals(1, d.notPrunable().size(), d.notPrunable().toString());
    assertEquals("(input)", d.notPrunable().get(0).opType());
  }

  @Test
  void flattenHeadReadsEachChannelAsHTimesWRows() {
    assertTrue(slices(owner(ChannelDiscovery.discover(TestCnns.flatHead(1, false)), "c2.w")).contains("fc.w/0+0x16"));
    assertTrue(slices(owner(ChannelDiscovery.discover(TestCnns.flatHead(1, true)), "c2.w")).contains("fc.w/1+0x16"));
  }

  @Test
  void anUnknownOpBlocksOnlyTheChannelsItReads() {
    ChannelDependencies d = ChannelDiscovery.discover(TestCnns.cnn(1, true));
    assertEquals(List.of(8, 8, 6, 10, 16, 4), d.groups().stream().map(ChannelGroup::channels).toList());
    NotPrunable lp = d.notPrunable().stream().filter(n -> n.opType().equals("LpNormalization")).findFirst()
        .orElseThrow();
    assertTrue(lp.nodeName().startsWith("LpNormalization_"), lp.nodeName());
    assertEquals(1, lp.producers().size());
    assertTrue(d.groups().stream().noneMatch(g -> slices(g).contains("pw.w/0+0x1")));
    assertEquals(Set.of("br1.w/0+0x1", "br1.b/0+0x1", "fuse.w/1+0x1"), slices(owner(d, "br1.w")));
  }

  @Test
  void aFeatureMapThatIsAlsoAGraphOutputIsNotPrunable() {
    ModelProto m = TestCnns.cnn(1, false);
    ModelProto.Builder b = m.toBuilder();
    b.getGraphBuilder().addOutput(ValueInfoProto.newBuilder().setName("br2.a"));
    ChannelDependencies d = ChannelDiscovery.discover(b.build());
    assertEquals(6, d.groups().size());
    assertTrue(d.notPrunable().stream().anyMatch(n -> n.opType().equals("(output)") && n.nodeName().equals("br2.a")),
        d.notPrunable().toString());
    assertTrue(d.groups().stream().noneMatch(g -> slices(g).contains("br2.w/0+0x1")));
  }

  /** The group that produces channels into {@code weight} (its axis-0 slice). */
  @Test
  void followsTheThirdPartyPatternsInEveryWeightStorageForm() {
    ModelProto m = TestCnns.thirdParty(1);
    ChannelDependencies d = ChannelDiscovery.discover(m);
    assertEquals(List.of(), d.notPrunable().stream().filter(n -> !n.opType().equals("(input)"))
        .map(NotPrunable::describe).toList(), "every op followed");
    assertEquals(List.of(8, 12, 2, 6, 10), d.groups().stream().map(ChannelGroup::channels).toList());
    assertTrue(slices(owner(d, "c1.w")).containsAll(Set.of("prelu.slope/0+0x1", "div.c/1+0x1")),
        slices(owner(d, "c1.w")).toString());
    assertTrue(slices(owner(d, "up.b")).contains("up.w/1+0x1"), "ConvTranspose output channels: weight dim 1");
    ModelProto cast = TestCnns.castWeights(m);
    assertEquals(List.of(8, 12, 2, 6, 10), ChannelDiscovery.discover(cast).groups().stream()
        .map(ChannelGroup::channels).toList(), "weights behind Cast and Identity");
    ModelProto constants = TestCnns.constantNodes(m);
    assertTrue(ChannelDiscovery.discover(constants).groups().isEmpty(), "Constant nodes are not initializers");
    assertEquals(List.of(8, 12, 2, 6, 10), ChannelDiscovery.discover(dev.pruneserve.graph.ConstantWeights.lift(
        constants)).groups().stream().map(ChannelGroup::channels).toList(), "lifted to initializers");
  }

  @Test
  void channelsLastStretchesAreFollowedThroughTransposes() {
    ChannelDependencies d = ChannelDiscovery.discover(TestCnns.nhwc(2));
    assertEquals(List.of(), d.notPrunable().stream().filter(n -> !n.opType().startsWith("(")).toList(),
        "Transpose → Relu → Transpose back is followed");
    assertEquals(List.of(6), d.groups().stream().map(ChannelGroup::channels).toList(), "c2 feeds the output");
    ChannelDependencies h = ChannelDiscovery.discover(TestCnns.nhwcHead(3));
    assertEquals(List.of(), h.notPrunable().stream().filter(n -> !n.opType().startsWith("(")).toList());
    assertEquals(List.of(6, 8, 4), h.groups().stream().map(ChannelGroup::channels).toList());
    assertEquals(Set.of("c1.b/0+0x1", "c1.w/0+0x1", "c2.w/1+0x1", "c3.w/1+0x1", "shift/3+0x1", "slope/0+0x1"),
        slices(owner(h, "c1.w")),
        "constants on the last axis are sliced there");
    assertTrue(slices(owner(h, "c3.w")).contains("fc.w/0+8x1"), "the Concat on axis -1 puts c3 at rows 8..11: "
        + slices(owner(h, "c3.w")));
  }

  @Test
  void aChannelsLastFlattenIsNamedAsTheBlockingNode() {
    ChannelDependencies d = ChannelDiscovery.discover(TestCnns.channelsLastFlatten(2));
    assertTrue(d.groups().isEmpty(), d.toString());
    assertTrue(d.notPrunable().stream().anyMatch(n -> n.opType().equals("Flatten") && n.reason().contains(
        "channels-last") && n.reason().contains("interleaves")), d.notPrunable().toString());
  }

  static ChannelGroup owner(ChannelDependencies d, String weight) {
    return d.groups().stream().filter(g -> g.slices().stream()
        .anyMatch(s -> s.initializer().equals(weight) && s.axis() == 0)).findFirst()
        .orElseThrow(() -> new AssertionError("no group produces " + weight + " in " + d));
  }

  /** "name/axis+offsetxmultiplicity" per slice. */
  static Set<String> slices(ChannelGroup g) {
    Set<String> s = new TreeSet<>();
    g.slices().forEach(x -> s.add(x.initializer() + "/" + x.axis() + "+" + x.offset() + "x" + x.multiplicity()));
    return s;
  }
}
