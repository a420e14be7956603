package dev.pruneserve.pruning.recovery;

import dev.pruneserve.graph.OnnxGraph;
import dev.pruneserve.onnx.proto.Onnx.AttributeProto;
import dev.pruneserve.onnx.proto.Onnx.NodeProto;
import java.util.Optional;

/**
 * A layer that reads pruned channels and is re-fitted by reconstruction, named by its weight
 * initializer (surgery keeps names): a MatMul (weight [K, D]), a Gemm with {@code transA = 0} (B
 * [K, M], or [M, K] with {@code transB = 1}) or a Conv with {@code group = 1} (weight [O, K, k…]).
 *
 * @param keptOutputs the dense output channels the pruned layer still produces, ascending, or null
 *     when it produces all of them (a CNN layer may be pruned on both sides)
 * @param streamTarget the target is the residual stream after the block ({@link ResidualChain}),
 *     not the projection's own output (transformers)
 */
public record Projection(Kind kind, String weight, int[] keptOutputs, boolean streamTarget) {
  public enum Kind {
    MATMUL, GEMM, CONV
  }

  /** This projection with another target. */
  Projection withStreamTarget(boolean stream) {
    return new Projection(kind, weight, keptOutputs, stream);
  }

  /** The node reading {@code weight} as its input 1, directly or through Identity/Cast nodes. */
  static Optional<NodeProto> reader(OnnxGraph g, String weight) {
    for (NodeProto n : g.nodes()) {
      if ((n.getOpType().equals("MatMul") || n.getOpType().equals("Gemm") || n.getOpType().equals("Conv"))
          && n.getInputCount() > 1 && source(g, n.getInput(1)).equals(weight)) {
        return Optional.of(n);
      }
    }
    return Optional.empty();
  }

  /** {@code value} followed back through Identity and Cast nodes to where it starts. */
  static String source(OnnxGraph g, String value) {
    String v = value;
    for (Optional<NodeProto> p = g.producer(v); p.isPresent() && (p.get().getOpType().equals("Identity") || p.get()
        .getOpType().equals("Cast")); p = g.producer(v)) {
      v = p.get().getInput(0);
    }
    return v;
  }

  static long intAttr(NodeProto n, String name, long fallback) {
    return n.getAttributeList().stream().filter(a -> a.getName().equals(name)).mapToLong(AttributeProto::getI)
        .findFirst().orElse(fallback);
  }

  static float floatAttr(NodeProto n, String name, float fallback) {
    return n.getAttributeList().stream().filter(a -> a.getName().equals(name)).map(AttributeProto::getF).findFirst()
        .orElse(fallback);
  }
}
