package dev.pruneserve.grad;

import dev.pruneserve.graph.ModelBuilder;
import dev.pruneserve.onnx.proto.Onnx.AttributeProto;
import dev.pruneserve.onnx.proto.Onnx.GraphProto;
import dev.pruneserve.onnx.proto.Onnx.NodeProto;
import dev.pruneserve.onnx.proto.Onnx.TensorProto;
import java.util.Arrays;

/**
 * Appends backward nodes and constants to a graph builder under fresh names ({@code grad.t<N>}),
 * plus the shape helpers the rules share (sum-to-shape for broadcasting). Standard ONNX ops of
 * opset 17 only. Not thread-safe: one emitter per generated graph.
 */
final class Emitter {
  private final GraphProto.Builder g;
  private final boolean runTimeShapes;
  private int next;

  /** {@code runTimeShapes}: broadcast reductions always on run-time shapes (tests the fallback). */
  Emitter(GraphProto.Builder g, boolean runTimeShapes) {
    this.g = g;
    this.runTimeShapes = runTimeShapes;
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

  /** A scalar INT64 constant. */
  String scalarInt64(long v) {
    String name = "grad.c" + next++;
    g.addInitializer(TensorProto.newBuilder().setName(name).setDataType(7).addInt64Data(v));
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
   * broadcast. Without static shapes it works on run-time shapes ({@link #sumToAtRunTime}).
   */
  String sumTo(String grad, long[] gs, String a, long[] as) {
    if (gs == null || as == null || runTimeShapes || Arrays.stream(gs).anyMatch(d -> d < 0)
        || Arrays.stream(as).anyMatch(d -> d < 0)) {
      return sumToAtRunTime(grad, a);
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

  /**
   * {@link #sumTo} on run-time shapes, for values whose static shape is unknown: the axes where
   * a's shape (left-padded with 1s to grad's rank) differs from grad's are reduced (broadcasting
   * makes those exactly the axes a was stretched along), then the result takes a's shape.
   */
  String sumToAtRunTime(String grad, String a) {
    String sa = op("Shape", a);
    String sg = op("Shape", grad);
    String diff = op("Sub", op("Size", sg), op("Size", sa));
    // a with leading 1-axes up to grad's rank (Unsqueeze over Range(0, diff): no static rank for
    // ONNX Runtime's shape inference to contradict)
    String lead = op("Range", scalarInt64(0), diff, scalarInt64(1));
    String padded = op("Shape", op("Unsqueeze", a, lead));
    String axes = op("Reshape", op("NonZero", op("Not", op("Equal", padded, sg))), int64s(-1));
    String summed = op("ReduceSum", attrs(i("keepdims", 1), i("noop_with_empty_axes", 1)), grad, axes);
    return op("Reshape", summed, sa);
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
