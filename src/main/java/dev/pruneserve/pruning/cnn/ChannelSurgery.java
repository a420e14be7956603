package dev.pruneserve.pruning.cnn;

import dev.pruneserve.graph.Slicing;
import dev.pruneserve.onnx.proto.Onnx.AttributeProto;
import dev.pruneserve.onnx.proto.Onnx.GraphProto;
import dev.pruneserve.onnx.proto.Onnx.ModelProto;
import dev.pruneserve.onnx.proto.Onnx.NodeProto;
import dev.pruneserve.onnx.proto.Onnx.TensorProto;
import java.util.BitSet;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.BiFunction;

/**
 * Removes (or, for equivalence checks, zeroes) channels of {@link ChannelGroup}s found by {@link
 * ChannelDiscovery} on the same model. Returns new models; the input is not changed. Concat
 * offsets need no edit (they follow from the sliced inputs); depthwise Convs get their {@code
 * group} attribute set to their new channel count; {@code value_info} is dropped (stale shapes).
 */
public final class ChannelSurgery {
  private ChannelSurgery() {}

  /** The pruned model and its weight size before and after. */
  public record Pruned(ModelProto model, ParamCount before, ParamCount after) {}

  /**
   * Removes channels {@code drop.get(group)} of each group (groups not in the map keep all); the
   * result carries a {@link CutRecord} of what was cut (strip it before storing).
   *
   * @throws IllegalArgumentException naming the group when an index is out of range or every
   *     channel of a group would go
   */
  public static Pruned remove(ModelProto model, Map<ChannelGroup, BitSet> drop) {
    Map<String, Map<Integer, BitSet>> cuts = cuts(drop);
    GraphProto.Builder graph = rewrite(model, cuts, (t, axes) -> {
      for (var e : axes.entrySet()) {
        t = Slicing.drop(t, e.getKey(), e.getValue());
      }
      return t;
    });
    Map<String, Long> outChannels = new HashMap<>();
    graph.getInitializerList().forEach(t -> outChannels.put(t.getName(), t.getDimsCount() > 0 ? t.getDims(0) : 0));
    for (NodeProto.Builder n : graph.getNodeBuilderList()) {
      if (n.getOpType().equals("Conv") && cuts.containsKey(n.getInput(1))) {
        for (AttributeProto.Builder a : n.getAttributeBuilderList()) {
          if (a.getName().equals("group") && a.getI() != 1) {
            a.setI(outChannels.get(n.getInput(1))); // depthwise: group = channels
          }
        }
      }
    }
    graph.clearValueInfo();
    ModelProto out = CutRecord.record(model.toBuilder().setGraph(graph).build(), cuts);
    return new Pruned(out, ParamCount.of(model), ParamCount.of(out));
  }

  /** The same model with every slice of channels {@code zero.get(group)} set to 0 (same shapes). */
  public static ModelProto zero(ModelProto model, Map<ChannelGroup, BitSet> zero) {
    java.util.Set<String> divisors = divisors(new dev.pruneserve.graph.OnnxGraph(model));
    GraphProto.Builder graph = rewrite(model, cuts(zero), (t, axes) -> {
      for (var e : axes.entrySet()) {
        t = divisors.contains(t.getName()) ? Slicing.fill(t, e.getKey(), e.getValue(), 1f) : Slicing.zero(t, e.getKey(),
            e.getValue());
      }
      return t;
    });
    return model.toBuilder().setGraph(graph).build();
  }

  /** Initializers read as a Div's divisor, directly or through Identity/Cast: zeroed channels get 1 there (0/1, not 0/0). */
  private static java.util.Set<String> divisors(dev.pruneserve.graph.OnnxGraph g) {
    java.util.Set<String> out = new java.util.HashSet<>();
    for (var n : g.nodes()) {
      if (n.getOpType().equals("Div") && n.getInputCount() == 2) {
        String v = n.getInput(1);
        while (g.producer(v).filter(p -> p.getOpType().equals("Identity") || p.getOpType().equals("Cast"))
            .isPresent()) {
          v = g.producer(v).get().getInput(0);
        }
        out.add(v);
      }
    }
    return out;
  }

  /** Per initializer, per axis: the indices the selected channels occupy. */
  private static Map<String, Map<Integer, BitSet>> cuts(Map<ChannelGroup, BitSet> channels) {
    Map<String, Map<Integer, BitSet>> cuts = new LinkedHashMap<>();
    channels.forEach((grp, bits) -> {
      if (bits.isEmpty()) {
        return;
      }
      if (bits.length() > grp.channels()) {
        throw new IllegalArgumentException(grp.label() + ": channel " + (bits.length() - 1) + " out of range [0, "
            + grp.channels() + ")");
      }
      if (bits.cardinality() == grp.channels()) {
        throw new IllegalArgumentException(grp.label() + ": refusing to remove all " + grp.channels() + " channels");
      }
      for (ChannelSlice s : grp.slices()) {
        BitSet idx = cuts.computeIfAbsent(s.initializer(), k -> new LinkedHashMap<>())
            .computeIfAbsent(s.axis(), k -> new BitSet());
        for (int c = bits.nextSetBit(0); c >= 0; c = bits.nextSetBit(c + 1)) {
          int from = (s.offset() + c) * s.multiplicity();
          idx.set(from, from + s.multiplicity());
        }
      }
    });
    return cuts;
  }

  private static GraphProto.Builder rewrite(ModelProto model, Map<String, Map<Integer, BitSet>> cuts,
      BiFunction<TensorProto, Map<Integer, BitSet>, TensorProto> edit) {
    GraphProto.Builder graph = model.getGraph().toBuilder();
    int found = 0;
    for (int i = 0; i < graph.getInitializerCount(); i++) {
      Map<Integer, BitSet> axes = cuts.get(graph.getInitializer(i).getName());
      if (axes != null) {
        graph.setInitializer(i, edit.apply(graph.getInitializer(i), axes));
        found++;
      }
    }
    if (found != cuts.size()) {
      throw new IllegalArgumentException("groups name initializers missing from this model: " + cuts.keySet());
    }
    return graph;
  }
}
