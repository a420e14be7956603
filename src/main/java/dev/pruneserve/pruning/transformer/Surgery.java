package dev.pruneserve.pruning.transformer;

import dev.pruneserve.graph.OnnxGraph;
import dev.pruneserve.graph.Slicing;
import dev.pruneserve.onnx.proto.Onnx.GraphProto;
import dev.pruneserve.onnx.proto.Onnx.ModelProto;
import dev.pruneserve.onnx.proto.Onnx.TensorProto;
import java.util.BitSet;
import java.util.HashMap;
import java.util.Map;

/**
 * Removes channels from a model: returns a new ModelProto whose initializers are sliced; the input
 * model is not changed. FP32 initializers with raw data only (what exporters write).
 */
public final class Surgery {
  private Surgery() {}

  /**
   * Removes {@code removed.get(group.index())} channels from each MLP group (missing = none).
   *
   * @throws IllegalArgumentException naming the group when an index is out of range or every
   *     channel of a group would go
   */
  public static ModelProto removeMlpChannels(OnnxGraph g, java.util.List<MlpGroup> groups,
      Map<Integer, BitSet> removed) {
    Map<String, TensorProto> replaced = new HashMap<>();
    for (MlpGroup grp : groups) {
      BitSet drop = removed.getOrDefault(grp.index(), new BitSet());
      if (drop.isEmpty()) {
        continue;
      }
      if (drop.length() > grp.width()) {
        throw new IllegalArgumentException("MLP group " + grp.index() + ": channel " + (drop.length() - 1)
            + " out of range [0, " + grp.width() + ")");
      }
      if (drop.cardinality() == grp.width()) {
        throw new IllegalArgumentException("MLP group " + grp.index() + ": refusing to remove all "
            + grp.width() + " channels");
      }
      slice(g, replaced, grp.gateWeight(), 1, drop);
      slice(g, replaced, grp.upWeight(), 1, drop);
      slice(g, replaced, grp.downWeight(), 0, drop);
    }
    return g.model().toBuilder().setGraph(replace(g.model().getGraph().toBuilder(), replaced)).build();
  }

  /** Removes channels {@code removed.get(group.index())} from each plain FFN (W1 columns, b1, W2 rows). */
  public static ModelProto removeFfnChannels(OnnxGraph g, java.util.List<FfnGroup> groups,
      Map<Integer, BitSet> removed) {
    Map<String, TensorProto> replaced = new HashMap<>();
    for (FfnGroup grp : groups) {
      BitSet drop = removed.getOrDefault(grp.index(), new BitSet());
      if (drop.isEmpty()) {
        continue;
      }
      if (drop.length() > grp.width() || drop.cardinality() == grp.width()) {
        throw new IllegalArgumentException("FFN group " + grp.index() + ": can remove up to " + (grp.width() - 1)
            + " of channels [0, " + grp.width() + "), got " + drop);
      }
      slice(g, replaced, grp.weight1(), 1, drop);
      if (grp.bias1() != null) {
        slice(g, replaced, grp.bias1(), 0, drop);
      }
      slice(g, replaced, grp.weight2(), 0, drop);
    }
    return g.model().toBuilder().setGraph(replace(g.model().getGraph().toBuilder(), replaced)).build();
  }

  /**
   * Removes units {@code removed.get(group.index())} (heads; with GQA, K/V heads with their query
   * heads) from each attention block (missing = none): q columns and o rows of each unit, its k/v
   * columns, the head counts in the shape constants and the KV-cache declarations.
   */
  public static ModelProto removeHeads(OnnxGraph g, java.util.List<HeadGroup> groups, Map<Integer, BitSet> removed) {
    Map<String, TensorProto> replaced = new HashMap<>();
    Map<String, Integer> cacheHeads = new HashMap<>();
    for (HeadGroup grp : groups) {
      BitSet drop = removed.getOrDefault(grp.index(), new BitSet());
      if (drop.isEmpty()) {
        continue;
      }
      String unit = grp.grouped() ? "KV group" : "head";
      if (drop.length() > grp.units()) {
        throw new IllegalArgumentException("attention block " + grp.index() + ": " + unit + " " + (drop.length() - 1)
            + " out of range [0, " + grp.units() + ")");
      }
      int kept = grp.units() - drop.cardinality();
      if (kept == 0) {
        throw new IllegalArgumentException("attention block " + grp.index() + ": refusing to remove all "
            + grp.units() + " " + unit + "s");
      }
      BitSet qCols = grp.queryChannels(drop);
      BitSet kvCols = grp.kvChannels(drop);
      slice(g, replaced, grp.qWeight(), 1, qCols);
      slice(g, replaced, grp.kWeight(), 1, kvCols);
      slice(g, replaced, grp.vWeight(), 1, kvCols);
      grp.qBiases().forEach(b -> slice(g, replaced, b, 0, qCols));
      grp.kvBiases().forEach(b -> slice(g, replaced, b, 0, kvCols));
      slice(g, replaced, grp.oWeight(), 0, qCols);
      for (ShapeSlot s : grp.queryShapes()) {
        setShape(g, replaced, s, (long) kept * grp.groupSize());
      }
      for (ShapeSlot s : grp.kvShapes()) {
        setShape(g, replaced, s, kept);
      }
      setShape(g, replaced, grp.mergeShape(), (long) kept * grp.unitWidth());
      grp.cacheValues().forEach(v -> cacheHeads.put(v, kept));
    }
    GraphProto.Builder graph = replace(g.model().getGraph().toBuilder(), replaced);
    for (var info : graph.getInputBuilderList()) {
      setHeadDim(info, cacheHeads);
    }
    for (var info : graph.getOutputBuilderList()) {
      setHeadDim(info, cacheHeads);
    }
    return g.model().toBuilder().setGraph(graph).build();
  }

  /** Dimension 1 of a [batch, heads, len, hd] cache value gets the new head count. */
  private static void setHeadDim(dev.pruneserve.onnx.proto.Onnx.ValueInfoProto.Builder info,
      Map<String, Integer> heads) {
    Integer h = heads.get(info.getName());
    if (h != null && info.getType().getTensorType().getShape().getDimCount() == 4) {
      info.getTypeBuilder().getTensorTypeBuilder().getShapeBuilder().getDimBuilder(1).setDimValue(h);
    }
  }

  /**
   * Drops indices {@code drop} along {@code axis} of initializer {@code name}, starting from what the
   * groups before already made of it in this edit: one weight can belong to two groups on different
   * axes (in a stacked MLP the fc2 [F1, F2] of one block is the fc1 of the next: rows for the first,
   * columns for the second), and both slices must stay. Indices are the original ones, which holds
   * because each group slices its own axis. The same tensor on the same axis twice is refused (the
   * second set of indices would no longer address the original positions).
   */
  private static void slice(OnnxGraph g, Map<String, TensorProto> replaced, String name, int axis, BitSet drop) {
    TensorProto t = replaced.containsKey(name) ? replaced.get(name) : GatedMlpDiscovery.require(g, name);
    if (t.getDimsCount() > axis && t.getDims(axis) != GatedMlpDiscovery.require(g, name).getDims(axis)) {
      throw new IllegalArgumentException("initializer " + name + " is sliced twice along axis " + axis
          + " (it belongs to two groups there)");
    }
    replaced.put(name, Slicing.drop(t, axis, drop));
  }

  private static void setShape(OnnxGraph g, Map<String, TensorProto> replaced, ShapeSlot s, long value) {
    TensorProto t = replaced.containsKey(s.tensor()) ? replaced.get(s.tensor())
        : g.constant(s.tensor()).orElseThrow(() -> new IllegalStateException("no constant " + s.tensor()));
    replaced.put(s.tensor(), ShapeSlot.with(t, s.index(), value));
  }

  /**
   * Replaces tensors by name in {@code graph}: initializers, and the {@code value} of Constant
   * nodes whose output has that name (the tensor's own name is kept as it was).
   */
  public static GraphProto.Builder replace(GraphProto.Builder graph, Map<String, TensorProto> replaced) {
    for (int i = 0; i < graph.getInitializerCount(); i++) {
      TensorProto t = replaced.get(graph.getInitializer(i).getName());
      if (t != null) {
        graph.setInitializer(i, t);
      }
    }
    for (var node : graph.getNodeBuilderList()) {
      if (node.getOpType().equals("Constant") && replaced.containsKey(node.getOutput(0))) {
        for (var a : node.getAttributeBuilderList()) {
          if (a.getName().equals("value")) {
            a.setT(replaced.get(node.getOutput(0)).toBuilder().setName(a.getT().getName()));
          }
        }
      }
    }
    return graph;
  }

  /** A 1-D FP32 tensor without the entries in {@code drop}. */
  static TensorProto keepEntries(TensorProto t, BitSet drop) {
    return Slicing.drop(t, 0, drop);
  }

  public static TensorProto keepColumns(TensorProto t, BitSet drop) {
    return Slicing.drop(t, 1, drop);
  }

  static TensorProto keepRows(TensorProto t, BitSet drop) {
    return Slicing.drop(t, 0, drop);
  }

  /**
   * Adds a bias after the MatMul whose weight is {@code weight}: its output {@code y} is renamed
   * {@code y.nobias} and a new {@code Add(y.nobias, bias)} produces {@code y}, inserted right after
   * the MatMul so the node list stays topologically sorted. {@code bias} has the MatMul's output
   * width (FP32).
   */
  public static ModelProto addBias(ModelProto model, String weight, float[] bias) {
    GraphProto.Builder graph = model.getGraph().toBuilder();
    for (int i = 0; i < graph.getNodeCount(); i++) {
      var n = graph.getNode(i);
      if (n.getOpType().equals("MatMul") && n.getInput(1).equals(weight)) {
        String y = n.getOutput(0);
        String name = weight + ".bias";
        int type = graph.getInitializerList().stream().filter(t -> t.getName().equals(weight)).findFirst()
            .map(TensorProto::getDataType).orElse(dev.pruneserve.graph.FloatTensors.FLOAT); // the weight's own type
        graph.addInitializer(dev.pruneserve.graph.FloatTensors.tensor(name, type, bias, bias.length));
        graph.setNode(i, n.toBuilder().setOutput(0, y + ".nobias"));
        graph.addNode(i + 1, dev.pruneserve.onnx.proto.Onnx.NodeProto.newBuilder().setOpType("Add")
            .setName(name + ".add").addInput(y + ".nobias").addInput(name).addOutput(y));
        return model.toBuilder().setGraph(graph).build();
      }
    }
    throw new IllegalArgumentException("no MatMul reads weight " + weight);
  }

  /** A copy of {@code model} with rows {@code drop} of initializer {@code name} set to zero. */
  public static ModelProto zeroRows(ModelProto model, String name, BitSet drop) {
    GraphProto.Builder graph = model.getGraph().toBuilder();
    for (int i = 0; i < graph.getInitializerCount(); i++) {
      TensorProto t = graph.getInitializer(i);
      if (t.getName().equals(name)) {
        graph.setInitializer(i, dev.pruneserve.graph.Slicing.zero(t, 0, drop));
      }
    }
    return model.toBuilder().setGraph(graph).build();
  }
}
