package dev.pruneserve.pruning.transformer;

import dev.pruneserve.graph.OnnxGraph;
import dev.pruneserve.onnx.proto.Onnx.NodeProto;
import dev.pruneserve.onnx.proto.Onnx.TensorProto;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Finds plain feed-forward blocks by pattern: {@code MatMul(h, W2 [F, D])} where {@code h} comes
 * from {@code MatMul(x, W1 [D, F]) [+ b1 [F]]} through elementwise ops only — unary activations
 * (Erf, Relu, Gelu, Sigmoid, Tanh, …) and Add/Sub/Mul/Div/Pow whose other operand is a scalar
 * constant or another value of the same chain (GELU decomposed as {@code x·(1+erf(x/√2))·0.5}).
 * Every intermediate value must stay inside the chain. Gated (SwiGLU) MLPs have two entry
 * projections and are found by {@link GatedMlpDiscovery} instead.
 */
public final class FfnDiscovery {
  private static final Set<String> UNARY = Set.of("Erf", "Relu", "Gelu", "Sigmoid", "Tanh", "Identity", "Neg",
      "Softplus", "LeakyRelu", "Elu", "HardSigmoid", "HardSwish");
  private static final Set<String> BINARY = Set.of("Add", "Sub", "Mul", "Div", "Pow");

  private FfnDiscovery() {}

  public static List<FfnGroup> plainFfns(OnnxGraph g) {
    List<FfnGroup> out = new ArrayList<>();
    for (NodeProto mm : g.nodes()) {
      if (mm.getOpType().equals("MatMul") && mm.getInputCount() == 2) {
        match(g, mm, out.size()).ifPresent(out::add);
      }
    }
    return out;
  }

  private static Optional<FfnGroup> match(OnnxGraph g, NodeProto fc2, int index) {
    Optional<TensorProto> w2 = g.initializer(fc2.getInput(1))
        .filter(t -> t.getDimsCount() == 2 && dev.pruneserve.graph.FloatTensors.isFloat(t.getDataType()));
    if (w2.isEmpty()) {
      return Optional.empty();
    }
    int width = (int) w2.get().getDims(0);
    Set<String> chain = new HashSet<>();
    Deque<String> todo = new ArrayDeque<>(List.of(fc2.getInput(0)));
    NodeProto entry = null;
    while (!todo.isEmpty()) {
      String v = todo.pop();
      if (chain.size() > 32) {
        return Optional.empty(); // not a small elementwise block
      }
      if (!chain.add(v)) {
        continue;
      }
      NodeProto n = g.producer(v).orElse(null);
      if (n == null) {
        return Optional.empty();
      }
      if (isEntry(g, n, width)) {
        if (entry != null && entry != n) {
          return Optional.empty(); // two projections feed the chain: gated, not plain
        }
        entry = n;
      } else if (UNARY.contains(n.getOpType())) {
        todo.push(n.getInput(0));
      } else if (BINARY.contains(n.getOpType()) && n.getInputCount() == 2) {
        for (String in : n.getInputList()) {
          if (!isScalar(g, in)) {
            todo.push(in);
          }
        }
      } else {
        return Optional.empty();
      }
    }
    if (entry == null) {
      return Optional.empty();
    }
    Set<String> outputs = new HashSet<>();
    g.model().getGraph().getOutputList().forEach(o -> outputs.add(o.getName()));
    for (String v : chain) {
      if (outputs.contains(v)) {
        return Optional.empty(); // a model output would change width
      }
      for (NodeProto user : g.consumers(v)) {
        if (user != fc2 && user.getOutputList().stream().noneMatch(chain::contains)) {
          return Optional.empty(); // an intermediate leaks out of the block
        }
      }
    }
    NodeProto mm1 = entry.getOpType().equals("MatMul") ? entry : g.producer(matmulSide(g, entry)).get();
    String bias = entry.getOpType().equals("Add") ? other(entry, matmulSide(g, entry)) : null;
    return Optional.of(new FfnGroup(index, mm1.getInput(1), bias, fc2.getInput(1), width));
  }

  /** MatMul(x, W1 [D, F]) or Add(MatMul(x, W1), b1 [F]) (either operand order). */
  private static boolean isEntry(OnnxGraph g, NodeProto n, int width) {
    if (n.getOpType().equals("MatMul")) {
      return g.initializer(n.getInput(1)).filter(t -> t.getDimsCount() == 2 && t.getDims(1) == width).isPresent();
    }
    if (n.getOpType().equals("Add") && n.getInputCount() == 2) {
      String mm = matmulSide(g, n);
      if (mm == null || g.consumers(mm).size() != 1) {
        return false;
      }
      boolean bias = g.initializer(other(n, mm)).filter(t -> t.getDimsCount() == 1 && t.getDims(0) == width)
          .isPresent();
      return bias && isEntry(g, g.producer(mm).get(), width);
    }
    return false;
  }

  private static String matmulSide(OnnxGraph g, NodeProto add) {
    for (String in : add.getInputList()) {
      if (g.producer(in).filter(p -> p.getOpType().equals("MatMul")).isPresent()) {
        return in;
      }
    }
    return null;
  }

  private static String other(NodeProto n, String in) {
    return n.getInput(0).equals(in) ? n.getInput(1) : n.getInput(0);
  }

  private static boolean isScalar(OnnxGraph g, String name) {
    return g.constant(name).filter(t -> t.getDimsCount() == 0 || (t.getDimsCount() == 1 && t.getDims(0) == 1))
        .isPresent();
  }
}
