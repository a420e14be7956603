package dev.pruneserve.graph;

import dev.pruneserve.onnx.proto.Onnx.AttributeProto;
import dev.pruneserve.onnx.proto.Onnx.GraphProto;
import dev.pruneserve.onnx.proto.Onnx.ModelProto;
import dev.pruneserve.onnx.proto.Onnx.NodeProto;
import dev.pruneserve.onnx.proto.Onnx.TensorProto;
import java.util.HashSet;
import java.util.Optional;
import java.util.Set;

/**
 * Weights kept in {@code Constant} nodes (PaddleOCR, tf2onnx and older exporters do this) moved to
 * initializers of the same name, so discovery and surgery see one form: every main-graph Constant
 * with a {@code value}, {@code value_float(s)} or {@code value_int(s)} attribute whose output is not
 * a graph output. The function is unchanged. Models with IR version below 4 (initializers must also
 * be graph inputs there) are returned as they are. Stateless.
 */
public final class ConstantWeights {
  private ConstantWeights() {}

  /** {@code m} with its Constant nodes as initializers; {@code m} itself when there is none to move. */
  public static ModelProto lift(ModelProto m) {
    if (m.getIrVersion() < 4) {
      return m;
    }
    Set<String> outputs = new HashSet<>();
    m.getGraph().getOutputList().forEach(v -> outputs.add(v.getName()));
    m.getGraph().getInitializerList().forEach(t -> outputs.add(t.getName()));
    GraphProto.Builder g = m.getGraph().toBuilder().clearNode();
    boolean moved = false;
    for (NodeProto n : m.getGraph().getNodeList()) {
      Optional<TensorProto> t = n.getOpType().equals("Constant") && n.getDomain().isEmpty() && n.getOutputCount() == 1
          && !outputs.contains(n.getOutput(0)) ? value(n) : Optional.empty();
      if (t.isPresent()) {
        g.addInitializer(t.get().toBuilder().setName(n.getOutput(0)));
        moved = true;
      } else {
        g.addNode(n);
      }
    }
    return moved ? m.toBuilder().setGraph(g).build() : m;
  }

  private static Optional<TensorProto> value(NodeProto n) {
    if (n.getAttributeCount() != 1) {
      return Optional.empty();
    }
    AttributeProto a = n.getAttribute(0);
    TensorProto.Builder t = TensorProto.newBuilder();
    switch (a.getName()) {
      case "value" -> {
        return a.hasT() ? Optional.of(a.getT()) : Optional.empty();
      }
      case "value_float" -> t.setDataType(1).addFloatData(a.getF());
      case "value_floats" -> t.setDataType(1).addDims(a.getFloatsCount()).addAllFloatData(a.getFloatsList());
      case "value_int" -> t.setDataType(7).addInt64Data(a.getI());
      case "value_ints" -> t.setDataType(7).addDims(a.getIntsCount()).addAllInt64Data(a.getIntsList());
      default -> {
        return Optional.empty(); // sparse_value, strings: left as nodes
      }
    }
    return Optional.of(t.build());
  }
}
