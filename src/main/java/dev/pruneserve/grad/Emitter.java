package dev.pruneserve.grad;

import dev.pruneserve.graph.ModelBuilder;
import dev.pruneserve.onnx.proto.Onnx.AttributeProto;
import dev.pruneserve.onnx.proto.Onnx.GraphProto;
import dev.pruneserve.onnx.proto.Onnx.NodeProto;
import dev.pruneserve.onnx.proto.Onnx.TensorProto;

/**
 * Appends backward nodes and constants to a graph builder under fresh names ({@code grad.t<N>}),
 * plus the shape helpers the rules share (sum-to-shape for broadcasting). Standard ONNX ops of
 * opset 17 only. Not thread-safe: one emitter per generated graph.
 */
final class Emitter {
  private final GraphProto.Builder g;
  private int next;

  Emitter(GraphProto.Builder g) {
    this.g = g;
  }

  /** One node with a single fresh output; returns its name. */
  String op(String type, String... inputs) {
    return op(type, new AttributeProto[0], inputs);
  }

  String op(String type, AttributeProto[] attrs, String... inputs) {
    String out = "grad.t" + next++;
    NodeProto.Builder n = NodeProto.newBuilder().setOpType(type).setName(out + ".node").addOutput(out);
    for (String i : inputs) {
      n.addInput(i);
    }
    for (AttributeProto a : attrs) {
      n.addAttribute(a);
    }
    g.addNode(n);
    return out;
  }

  static AttributeProto[] attrs(AttributeProto... a) {
    return a;
  }

  static AttributeProto i(String name, long v) {
    return ModelBuilder.intAttr(name, v);
  }

  static AttributeProto ints(String name, long... v) {
    return ModelBuilder.intsAttr(name, v);
  }

  /** A float scalar constant. */
  String scalar(float v) {
    String name = "grad.c" + next++;
    g.addInitializer(TensorProto.newBuilder().setName(name).setDataType(1).addFloatData(v));
    return name;
  }

  /** A float constant of the given shape (row-major values). */
  String floats(float[] v, long[] shape) {
    String name = "grad.c" + next++;
    TensorProto.Builder t = TensorProto.newBuilder().setName(name).setDataType(1);
    for (long d : shape) {
      t.addDims(d);
    }
    for (float x : v) {
      t.addFloatData(x);
    }
    g.addInitializer(t);
    return name;
  }

  /** A 1-D INT64 constant. */
  String int64s(long... v) {
    String name = "grad.c" + next++;
    TensorProto.Builder t = TensorProto.newBuilder().setName(name).setDataType(7).addDims(v.length);
    for (long x : v) {
      t.addInt64Data(x);
    }
    g.addInitializer(t);
    return name;
  }

  /** Float tensor of ones shaped like {@code like} (any shape, known at run time). */
  String onesLike(String like) {
    return op("ConstantOfShape", attrs(ModelBuilder.tensorAttr("value", TensorProto.newBuilder().setDataType(1)
        .addDims(1).addFloatData(1f).build())), op("Shape", like));
  }

  /**
   * {@code grad} of static shape {@code gs} (a broadcast result) summed back to operand {@code a}
   * of static shape {@code as}: the leading axes a lacks and the axes where a has 1 and grad more
   * are reduced, then the result takes a's shape. Returns {@code grad} itself when nothing was
   * broadcast. Dynamic dims (−1) count as unequal to 1 on the grad side and as not broadcast on a's.
   */
  String sumTo(String grad, long[] gs, String a, long[] as) {
    if (gs == null || as == null) {
      throw new UnsupportedOperationException("broadcast gradient to '" + a + "' needs static ranks");
    }
    int lead = gs.length - as.length;
    java.util.List<Long> axes = new java.util.ArrayList<>();
    for (int k = 0; k < gs.length; k++) {
      if (k < lead || (as[k - lead] == 1 && gs[k] != 1)) {
        axes.add((long) k);
      }
    }
    if (axes.isEmpty()) {
      return grad;
    }
    String summed = op("ReduceSum", attrs(i("keepdims", 1)), grad,
        int64s(axes.stream().mapToLong(Long::longValue).toArray()));
    return op("Reshape", summed, op("Shape", a));
  }

  /** Swaps the last two axes of a tensor of rank {@code rank} (≥ 2). */
  String swapLast(String x, int rank) {
    long[] perm = new long[rank];
    for (int k = 0; k < rank; k++) {
      perm[k] = k;
    }
    perm[rank - 2] = rank - 1;
    perm[rank - 1] = rank - 2;
    return op("Transpose", attrs(ints("perm", perm)), x);
  }
}
