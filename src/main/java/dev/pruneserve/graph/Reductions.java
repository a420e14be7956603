package dev.pruneserve.graph;

import dev.pruneserve.onnx.proto.Onnx.GraphProto;
import dev.pruneserve.onnx.proto.Onnx.ModelProto;
import dev.pruneserve.onnx.proto.Onnx.NodeProto;
import dev.pruneserve.onnx.proto.Onnx.TensorProto;

/**
 * Reduce nodes written for the model's opset: their {@code axes} became an input instead of an
 * attribute at opset 13 for ReduceSum and at opset 18 for the others (ReduceMean, ReduceMax, …).
 * Stateless.
 */
public final class Reductions {
  private Reductions() {}

  /** The model's default-domain opset ({@link ModelBuilder#OPSET} when it names none). */
  public static long opset(ModelProto m) {
    return m.getOpsetImportList().stream().filter(o -> o.getDomain().isEmpty() || o.getDomain().equals("ai.onnx"))
        .mapToLong(o -> o.getVersion()).findFirst().orElse(ModelBuilder.OPSET);
  }

  /**
   * {@code op(in) → out} over {@code axes}; for opsets that take axes as an input, an int64
   * initializer {@code out + ".axes"} is added to {@code g}.
   */
  public static NodeProto reduce(String op, String in, String out, long[] axes, boolean keepdims, long opset,
      GraphProto.Builder g) {
    NodeProto.Builder n = NodeProto.newBuilder().setOpType(op).setName(out + ".node").addInput(in).addOutput(out)
        .addAttribute(ModelBuilder.intAttr("keepdims", keepdims ? 1 : 0));
    if (opset >= (op.equals("ReduceSum") ? 13 : 18)) {
      TensorProto.Builder a = TensorProto.newBuilder().setName(out + ".axes").setDataType(7).addDims(axes.length);
      for (long x : axes) {
        a.addInt64Data(x);
      }
      g.addInitializer(a);
      n.addInput(out + ".axes");
    } else {
      n.addAttribute(ModelBuilder.intsAttr("axes", axes));
    }
    return n.build();
  }
}
