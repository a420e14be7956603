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
