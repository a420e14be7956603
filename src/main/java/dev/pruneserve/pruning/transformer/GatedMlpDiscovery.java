package dev.pruneserve.pruning.transformer;

import dev.pruneserve.graph.OnnxGraph;
import dev.pruneserve.onnx.proto.Onnx.NodeProto;
import dev.pruneserve.onnx.proto.Onnx.TensorProto;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Finds prunable structures by graph pattern, never by tensor names. Currently: gated (SwiGLU) MLPs
 * {@code MatMul(Mul(Mul(g, Sigmoid(g)), u), Wd)} with {@code g = MatMul(x, Wg)}, {@code u =
 * MatMul(x, Wu)}, all three weights 2-D initializers and the intermediate used only by the down
 * projection. Anything that does not match exactly is left alone (not prunable).
 */
public final class GatedMlpDiscovery {
  private GatedMlpDiscovery() {}

  public static List<MlpGroup> gatedMlps(OnnxGraph g) {
    List<MlpGroup> out = new ArrayList<>();
    for (NodeProto mul : g.nodes()) {
      if (!mul.getOpType().equals("Mul") || mul.getInputCount() != 2) {
        continue;
      }
      match(g, mul, 0).or(() -> match(g, mul, 1)).ifPresent(m -> out.add(
          new MlpGroup(out.size(), m.gate, m.up, m.down, m.width)));
    }
    return out;
  }

  private record Match(String gate, String up, String down, int width) {}

  /** {@code mul.input(siluSide)} must be silu(MatMul(x, Wg)); the other input MatMul(x, Wu). */
  private static Optional<Match> match(OnnxGraph g, NodeProto mul, int siluSide) {
    Optional<NodeProto> silu = g.producer(mul.getInput(siluSide)).filter(n -> n.getOpType().equals("Mul"));
    Optional<NodeProto> up = g.producer(mul.getInput(1 - siluSide)).filter(n -> n.getOpType().equals("MatMul"));
    if (silu.isEmpty() || up.isEmpty()) {
      return Optional.empty();
    }
    Optional<NodeProto> gate = gateOfSilu(g, silu.get());
    if (gate.isEmpty() || !gate.get().getInput(0).equals(up.get().getInput(0))) {
      return Optional.empty();
    }
    List<NodeProto> users = g.consumers(mul.getOutput(0));
    if (users.size() != 1 || !users.get(0).getOpType().equals("MatMul")
        || !users.get(0).getInput(0).equals(mul.getOutput(0))) {
      return Optional.empty();
    }
    String wg = gate.get().getInput(1);
    String wu = up.get().getInput(1);
    String wd = users.get(0).getInput(1);
    int width = cols(g, wg);
    if (width <= 0 || cols(g, wu) != width || rows(g, wd) != width) {
      return Optional.empty();
    }
    return Optional.of(new Match(wg, wu, wd, width));
  }

  /** silu(x) = x · Sigmoid(x), with x produced by a MatMul: returns that MatMul. */
  private static Optional<NodeProto> gateOfSilu(OnnxGraph g, NodeProto silu) {
    for (int side = 0; side < 2; side++) {
      String x = silu.getInput(side);
      Optional<NodeProto> sig = g.producer(silu.getInput(1 - side)).filter(n -> n.getOpType().equals("Sigmoid"));
      if (sig.isPresent() && sig.get().getInput(0).equals(x)) {
        return g.producer(x).filter(n -> n.getOpType().equals("MatMul"));
      }
    }
    return Optional.empty();
  }

  /** Columns of a 2-D FP32 initializer, −1 if it is not one. */
  static int cols(OnnxGraph g, String name) {
    return g.initializer(name)
        .filter(t -> t.getDimsCount() == 2 && dev.pruneserve.graph.FloatTensors.isFloat(t.getDataType()))
        .map(t -> (int) t.getDims(1)).orElse(-1);
  }

  /** Rows of a 2-D FP32 initializer, −1 if it is not one. */
  static int rows(OnnxGraph g, String name) {
    return g.initializer(name)
        .filter(t -> t.getDimsCount() == 2 && dev.pruneserve.graph.FloatTensors.isFloat(t.getDataType()))
        .map(t -> (int) t.getDims(0)).orElse(-1);
  }

  public static TensorProto require(OnnxGraph g, String name) {
    return g.initializer(name).orElseThrow(() -> new IllegalStateException("no initializer " + name));
  }
}
