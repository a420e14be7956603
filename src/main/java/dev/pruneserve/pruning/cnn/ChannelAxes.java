package dev.pruneserve.pruning.cnn;

import dev.pruneserve.graph.OnnxGraph;
import dev.pruneserve.onnx.proto.Onnx.AttributeProto;
import dev.pruneserve.onnx.proto.Onnx.NodeProto;
import dev.pruneserve.onnx.proto.Onnx.TensorProto;
import java.util.BitSet;
import java.util.Optional;

/**
 * How the ops of channels-last stretches (tf2onnx's NHWC layout) move a tracked value's channel
 * axis, for {@link ChannelDiscovery}: each returns the output's {@link Layout}, or empty when the
 * op is not followed (the caller names the node). Stateless.
 */
final class ChannelAxes {
  private ChannelAxes() {}

  /** Transpose: the channels go where the permutation puts their axis; the batch axis must stay first. */
  static Optional<Layout> transposed(Layout x, NodeProto n) {
    long[] perm = ints(n, "perm");
    if (perm.length == 0) { // the default reverses the axes
      perm = new long[x.rank()];
      for (int i = 0; i < perm.length; i++) {
        perm[i] = x.rank() - 1 - i;
      }
    }
    int to = -1;
    for (int i = 0; i < perm.length; i++) {
      to = perm[i] == x.axis() ? i : to;
    }
    if (x.flat() || perm.length != x.rank() || to < 0 || perm[0] != 0) {
      return Optional.empty();
    }
    return Optional.of(x.moved(to, x.rank()));
  }

  /**
   * Reductions over other axes than batch and channels (tf2onnx's global pooling: ReduceMean over
   * [1, 2] of an NHWC map), axes from the attribute or a constant input: the channels stay; without
   * keepdims they move left, and [N, C] is a flat value a Gemm/MatMul reads with multiplicity 1.
   * Squeeze of explicit axes is followed the same way (ONNX Runtime checks the squeezed axes are 1).
   */
  static Optional<Layout> reduced(Layout x, NodeProto n, OnnxGraph g) {
    long[] axes = ints(n, "axes");
    if (axes.length == 0 && n.getInputCount() > 1 && !n.getInput(1).isEmpty()) {
      axes = g.initializer(n.getInput(1)).map(ChannelAxes::int64s).orElse(new long[0]);
    }
    if (x.flat() || axes.length == 0) {
      return Optional.empty();
    }
    BitSet reduced = new BitSet();
    for (long a : axes) {
      reduced.set((int) (a < 0 ? a + x.rank() : a));
    }
    if (reduced.get(0) || reduced.get(x.axis()) || reduced.length() > x.rank()) {
      return Optional.empty();
    }
    boolean keep = !n.getOpType().equals("Squeeze") && n.getAttributeList().stream().noneMatch(a -> a.getName()
        .equals("keepdims") && a.getI() == 0);
    if (keep) {
      return Optional.of(x);
    }
    int rank = x.rank() - reduced.cardinality();
    int axis = x.axis() - reduced.get(0, x.axis()).cardinality();
    return Optional.of(rank == 2 ? x.flattened() : x.moved(axis, rank));
  }

  private static long[] ints(NodeProto n, String name) {
    return n.getAttributeList().stream()
        .filter(a -> a.getName().equals(name) && a.getType() == AttributeProto.AttributeType.INTS).findFirst()
        .map(a -> a.getIntsList().stream().mapToLong(Long::longValue).toArray())
        .orElse(new long[0]);
  }

  /** An INT64 tensor's values (empty for any other type). */
  static long[] int64s(TensorProto t) {
    return t.getDataType() != 7 /* INT64 */ ? new long[0] : dev.pruneserve.graph.ShapeInference.int64s(t);
  }
}
