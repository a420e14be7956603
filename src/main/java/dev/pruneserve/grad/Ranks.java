package dev.pruneserve.grad;

import dev.pruneserve.onnx.proto.Onnx.NodeProto;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * Completes static shape inference with ranks where dimensions are unknown (attention blocks,
 * RoPE tables, shapes built at run time): each missing output gets an all-unknown shape (−1s) of
 * the rank its op implies, so rules that only need ranks (MatMul, Transpose) work; broadcast
 * reductions with unknown dimensions use run-time shapes.
 */
final class Ranks {
  private Ranks() {}

  static void complete(List<NodeProto> nodes, Map<String, long[]> shapes, Function<String, long[]> constants) {
    for (NodeProto n : nodes) {
      if (n.getOutputCount() == 0 || n.getOutput(0).isEmpty() || shapes.containsKey(n.getOutput(0))) {
        continue;
      }
      int r = rank(n, shapes, constants);
      if (r >= 0) {
        long[] s = new long[r];
        Arrays.fill(s, -1);
        shapes.put(n.getOutput(0), s);
      }
    }
  }

  private static int rank(NodeProto n, Map<String, long[]> shapes, Function<String, long[]> constants) {
    int in0 = rankOf(n, 0, shapes);
    return switch (n.getOpType()) {
      case "Shape", "Range", "NonZero", "Size" -> n.getOpType().equals("Size") ? 0 : n.getOpType().equals("NonZero")
          ? 2 : 1;
      case "Add", "Sub", "Mul", "Div", "Pow", "Where", "Equal", "Less", "Greater", "LessOrEqual", "GreaterOrEqual",
          "And", "Or", "MatMul", "Expand", "Max", "Min", "Mod" -> {
        int r = -1;
        for (int i = 0; i < n.getInputCount(); i++) {
          int ri = n.getOpType().equals("Expand") && i == 1 ? constLength(n, 1, shapes) : rankOf(n, i, shapes);
          if (ri < 0) {
            yield -1;
          }
          r = Math.max(r, ri);
        }
        yield r;
      }
      case "ReduceMean", "ReduceSum", "ReduceMax", "ReduceLogSumExp" -> {
        if (VjpRules.attrInt(n, "keepdims", 1) == 1 || in0 < 0) {
          yield in0;
        }
        long[] axes = n.getInputCount() > 1 ? constants.apply(n.getInput(1)) : n.getAttributeList().stream()
            .filter(a -> a.getName().equals("axes")).findFirst()
            .map(a -> a.getIntsList().stream().mapToLong(Long::longValue).toArray()).orElse(null);
        yield axes == null ? 0 : in0 - axes.length;
      }
      case "Reshape" -> constLength(n, 1, shapes);
      case "ConstantOfShape" -> constLength(n, 0, shapes);
      case "Gather" -> in0 < 0 || rankOf(n, 1, shapes) < 0 ? -1 : in0 + rankOf(n, 1, shapes) - 1;
      case "Unsqueeze", "Squeeze" -> {
        long[] axes = n.getInputCount() > 1 ? constants.apply(n.getInput(1)) : null;
        yield in0 < 0 || axes == null ? -1 : in0 + (n.getOpType().equals("Unsqueeze") ? axes.length : -axes.length);
      }
      case "Concat", "Slice", "Transpose", "Softmax", "LogSoftmax", "Cast", "Neg", "Sqrt", "Exp", "Log", "Sigmoid",
          "Tanh", "Relu", "Erf", "Cos", "Sin", "Identity", "Not", "Trilu", "CumSum", "ScatterND", "ScatterElements",
          "GatherElements", "Reciprocal", "Abs", "Floor", "Ceil", "Round", "Softplus", "LeakyRelu", "HardSigmoid",
          "HardSwish", "Clip", "IsNaN", "IsInf", "Sign" -> in0;
      default -> -1;
    };
  }

  private static int rankOf(NodeProto n, int i, Map<String, long[]> shapes) {
    long[] s = i < n.getInputCount() ? shapes.get(n.getInput(i)) : null;
    return s == null ? -1 : s.length;
  }

  /** The length of a 1-D shape operand (its static size), −1 when unknown. */
  private static int constLength(NodeProto n, int i, Map<String, long[]> shapes) {
    long[] s = i < n.getInputCount() ? shapes.get(n.getInput(i)) : null;
    return s == null || s.length != 1 || s[0] < 0 ? -1 : (int) s[0];
  }
}
