package dev.pruneserve.pruning.transformer;

import dev.pruneserve.graph.OnnxGraph;
import dev.pruneserve.onnx.proto.Onnx.NodeProto;
import dev.pruneserve.onnx.proto.Onnx.TensorProto;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * One element of a constant int64 shape tensor that surgery may rewrite: element {@code index} of
 * the constant {@code tensor} (an initializer or a {@code Constant} node's output).
 */
public record ShapeSlot(String tensor, int index) {
  /**
   * The elements of a shape value: a constant int64 tensor, or a Concat of constant and dynamic
   * one-element pieces (how exporters build {@code [batch, seq, H, hd]}). Dynamic elements are −1
   * with a null slot. Empty when the value is built any other way.
   */
  public record Vector(long[] values, ShapeSlot[] slots) {}

  public static Optional<Vector> resolve(OnnxGraph g, String value) {
    Optional<long[]> c = ints(g, value);
    if (c.isPresent()) {
      ShapeSlot[] slots = new ShapeSlot[c.get().length];
      for (int i = 0; i < slots.length; i++) {
        slots[i] = new ShapeSlot(value, i);
      }
      return Optional.of(new Vector(c.get(), slots));
    }
    Optional<NodeProto> concat = g.producer(value).filter(n -> n.getOpType().equals("Concat"));
    if (concat.isEmpty()) {
      return Optional.empty();
    }
    List<Long> values = new ArrayList<>();
    List<ShapeSlot> slots = new ArrayList<>();
    for (String in : concat.get().getInputList()) {
      Optional<long[]> piece = ints(g, in);
      if (piece.isPresent()) {
        for (int i = 0; i < piece.get().length; i++) {
          values.add(piece.get()[i]);
          slots.add(new ShapeSlot(in, i));
        }
      } else if (g.producer(in).filter(n -> n.getOpType().equals("Unsqueeze")).isPresent()) {
        values.add(-1L); // Unsqueeze of a scalar (Shape → Gather): one dynamic element
        slots.add(null);
      } else {
        return Optional.empty();
      }
    }
    return Optional
        .of(new Vector(values.stream().mapToLong(Long::longValue).toArray(), slots.toArray(new ShapeSlot[0])));
  }

  /** The values of a constant int64 tensor (initializer or Constant node). */
  static Optional<long[]> ints(OnnxGraph g, String name) {
    return g.constant(name).filter(t -> t.getDataType() == 7).map(dev.pruneserve.graph.ShapeInference::int64s);
  }

  /** {@code t} with element {@code index} set to {@code value}, in int64_data form, same dims. */
  static TensorProto with(TensorProto t, int index, long value) {
    long[] v = dev.pruneserve.graph.ShapeInference.int64s(t);
    v[index] = value;
    TensorProto.Builder b = t.toBuilder().clearRawData().clearInt64Data();
    for (long x : v) {
      b.addInt64Data(x);
    }
    return b.build();
  }
}
