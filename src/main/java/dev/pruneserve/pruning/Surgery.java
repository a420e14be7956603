package dev.pruneserve.pruning;

import com.google.protobuf.UnsafeByteOperations;
import dev.pruneserve.graph.OnnxGraph;
import dev.pruneserve.onnx.proto.Onnx.GraphProto;
import dev.pruneserve.onnx.proto.Onnx.ModelProto;
import dev.pruneserve.onnx.proto.Onnx.TensorProto;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
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
      replaced.put(grp.gateWeight(), keepColumns(DependencyDiscovery.require(g, grp.gateWeight()), drop));
      replaced.put(grp.upWeight(), keepColumns(DependencyDiscovery.require(g, grp.upWeight()), drop));
      replaced.put(grp.downWeight(), keepRows(DependencyDiscovery.require(g, grp.downWeight()), drop));
    }
    GraphProto.Builder graph = g.model().getGraph().toBuilder();
    for (int i = 0; i < graph.getInitializerCount(); i++) {
      TensorProto t = replaced.get(graph.getInitializer(i).getName());
      if (t != null) {
        graph.setInitializer(i, t);
      }
    }
    return g.model().toBuilder().setGraph(graph).build();
  }

  /**
   * Removes heads {@code removed.get(group.index())} from each attention block (missing = none):
   * q/k/v columns, o rows, the shape constants and the KV-cache declarations.
   */
  public static ModelProto removeHeads(OnnxGraph g, java.util.List<HeadGroup> groups, Map<Integer, BitSet> removed) {
    Map<String, TensorProto> replaced = new HashMap<>();
    Map<String, Integer> cacheHeads = new HashMap<>();
    for (HeadGroup grp : groups) {
      BitSet drop = removed.getOrDefault(grp.index(), new BitSet());
      if (drop.isEmpty()) {
        continue;
      }
      if (drop.length() > grp.heads()) {
        throw new IllegalArgumentException("attention block " + grp.index() + ": head " + (drop.length() - 1)
            + " out of range [0, " + grp.heads() + ")");
      }
      int kept = grp.heads() - drop.cardinality();
      if (kept == 0) {
        throw new IllegalArgumentException("attention block " + grp.index() + ": refusing to remove all "
            + grp.heads() + " heads");
      }
      BitSet cols = new BitSet();
      for (int h = drop.nextSetBit(0); h >= 0; h = drop.nextSetBit(h + 1)) {
        cols.set(h * grp.headDim(), (h + 1) * grp.headDim());
      }
      for (String w : java.util.List.of(grp.qWeight(), grp.kWeight(), grp.vWeight())) {
        replaced.put(w, keepColumns(DependencyDiscovery.require(g, w), cols));
      }
      replaced.put(grp.oWeight(), keepRows(DependencyDiscovery.require(g, grp.oWeight()), cols));
      for (String s : grp.splitShapes()) {
        replaced.put(s, int64(s, 0, 0, kept, grp.headDim()));
      }
      replaced.put(grp.mergeShape(), int64(grp.mergeShape(), 0, 0, (long) kept * grp.headDim()));
      grp.cacheValues().forEach(v -> cacheHeads.put(v, kept));
    }
    GraphProto.Builder graph = g.model().getGraph().toBuilder();
    for (int i = 0; i < graph.getInitializerCount(); i++) {
      TensorProto t = replaced.get(graph.getInitializer(i).getName());
      if (t != null) {
        graph.setInitializer(i, t);
      }
    }
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

  private static TensorProto int64(String name, long... values) {
    TensorProto.Builder t = TensorProto.newBuilder().setName(name).setDataType(7).addDims(values.length);
    for (long v : values) {
      t.addInt64Data(v);
    }
    return t.build();
  }

  static TensorProto keepColumns(TensorProto t, BitSet drop) {
    int rows = (int) t.getDims(0);
    int cols = (int) t.getDims(1);
    int kept = cols - drop.cardinality();
    ByteBuffer src = t.getRawData().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
    ByteBuffer dst = ByteBuffer.allocate(rows * kept * 4).order(ByteOrder.LITTLE_ENDIAN);
    for (int r = 0; r < rows; r++) {
      for (int c = 0; c < cols; c++) {
        if (!drop.get(c)) {
          dst.putFloat(src.getFloat((r * cols + c) * 4));
        }
      }
    }
    return t.toBuilder().setDims(1, kept).setRawData(UnsafeByteOperations.unsafeWrap(dst.array())).build();
  }

  static TensorProto keepRows(TensorProto t, BitSet drop) {
    int rows = (int) t.getDims(0);
    int cols = (int) t.getDims(1);
    int kept = rows - drop.cardinality();
    byte[] src = t.getRawData().toByteArray();
    byte[] dst = new byte[kept * cols * 4];
    int k = 0;
    for (int r = 0; r < rows; r++) {
      if (!drop.get(r)) {
        System.arraycopy(src, r * cols * 4, dst, k++ * cols * 4, cols * 4);
      }
    }
    return t.toBuilder().setDims(0, kept).setRawData(UnsafeByteOperations.unsafeWrap(dst)).build();
  }

  /** A copy of {@code model} with rows {@code drop} of initializer {@code name} set to zero. */
  public static ModelProto zeroRows(ModelProto model, String name, BitSet drop) {
    GraphProto.Builder graph = model.getGraph().toBuilder();
    for (int i = 0; i < graph.getInitializerCount(); i++) {
      TensorProto t = graph.getInitializer(i);
      if (t.getName().equals(name)) {
        int cols = (int) t.getDims(1);
        byte[] b = t.getRawData().toByteArray();
        for (int r = drop.nextSetBit(0); r >= 0; r = drop.nextSetBit(r + 1)) {
          java.util.Arrays.fill(b, r * cols * 4, (r + 1) * cols * 4, (byte) 0);
        }
        graph.setInitializer(i, t.toBuilder().setRawData(UnsafeByteOperations.unsafeWrap(b)));
      }
    }
    return model.toBuilder().setGraph(graph).build();
  }
}
