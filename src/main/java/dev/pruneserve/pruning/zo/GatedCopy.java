package dev.pruneserve.pruning.zo;

import dev.pruneserve.onnx.proto.Onnx.GraphProto;
import dev.pruneserve.onnx.proto.Onnx.ModelProto;
import dev.pruneserve.onnx.proto.Onnx.NodeProto;
import dev.pruneserve.onnx.proto.Onnx.TensorProto;
import dev.pruneserve.onnx.proto.Onnx.TensorShapeProto;
import dev.pruneserve.onnx.proto.Onnx.TypeProto;
import dev.pruneserve.onnx.proto.Onnx.ValueInfoProto;
import dev.pruneserve.pruning.zo.LossProbe.Gate;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A copy of a model whose chosen FP32 weight initializers are graph inputs (ONNX Runtime Java
 * cannot override initializers) and whose {@link Gate}s multiply the input of the MatMul reading
 * their weight by a per-channel graph input [width] (plus a fill input when set). Outputs are the
 * model's own. Pure function of its arguments; the input model is not changed.
 */
public final class GatedCopy {
  private GatedCopy() {}

  /** @throws IllegalArgumentException when a weight is not an FP32 initializer or no MatMul reads a gate's weight */
  public static ModelProto of(ModelProto dense, List<String> weightInputs, List<Gate> gates) {
    GraphProto.Builder g = dense.getGraph().toBuilder();
    Set<String> asInputs = Set.copyOf(weightInputs);
    Map<String, TensorProto> moved = new HashMap<>();
    for (int i = g.getInitializerCount() - 1; i >= 0; i--) {
      if (asInputs.contains(g.getInitializer(i).getName())) {
        moved.put(g.getInitializer(i).getName(), g.getInitializer(i));
        g.removeInitializer(i);
      }
    }
    for (String w : weightInputs) {
      TensorProto t = moved.get(w);
      if (t == null || t.getDataType() != 1) {
        throw new IllegalArgumentException("no FP32 initializer '" + w + "' to perturb");
      }
      g.addInput(fixed(w, t.getDimsList()));
    }
    for (Gate gate : gates) {
      int at = -1;
      for (int k = 0; k < g.getNodeCount() && at < 0; k++) {
        if (g.getNode(k).getOpType().equals("MatMul") && g.getNode(k).getInput(1).equals(gate.weight())) {
          at = k;
        }
      }
      if (at < 0) {
        throw new IllegalArgumentException("no MatMul reads " + gate.weight());
      }
      String gated = gate.name() + ".out";
      String filled = gate.fill() == null ? gated : gate.name() + ".filled";
      NodeProto mul = NodeProto.newBuilder().setOpType("Mul").setName(gated + ".node")
          .addInput(g.getNode(at).getInput(0)).addInput(gate.name()).addOutput(gated).build();
      g.setNode(at, g.getNode(at).toBuilder().setInput(0, filled));
      List<NodeProto> order = new ArrayList<>(g.getNodeList());
      order.add(at, mul); // keep topological order: in front of the MatMul
      if (gate.fill() != null) {
        order.add(at + 1, NodeProto.newBuilder().setOpType("Add").setName(filled + ".node").addInput(gated)
            .addInput(gate.fill()).addOutput(filled).build());
        g.addInput(fixed(gate.fill(), List.of((long) gate.width())));
      }
      g.clearNode().addAllNode(order);
      g.addInput(fixed(gate.name(), List.of((long) gate.width())));
    }
    return dense.toBuilder().setGraph(g).build();
  }

  static ValueInfoProto fixed(String name, List<Long> dims) {
    TensorShapeProto.Builder shape = TensorShapeProto.newBuilder();
    dims.forEach(d -> shape.addDim(TensorShapeProto.Dimension.newBuilder().setDimValue(d)));
    return ValueInfoProto.newBuilder().setName(name).setType(TypeProto.newBuilder().setTensorType(
        TypeProto.Tensor.newBuilder().setElemType(1).setShape(shape))).build();
  }
}
