package dev.pruneserve.pruning.recovery;

import dev.pruneserve.graph.FloatTensors;
import dev.pruneserve.graph.OnnxGraph;
import dev.pruneserve.onnx.proto.Onnx.GraphProto;
import dev.pruneserve.onnx.proto.Onnx.ModelProto;
import dev.pruneserve.onnx.proto.Onnx.NodeProto;
import dev.pruneserve.onnx.proto.Onnx.TensorProto;
import dev.pruneserve.pruning.transformer.Surgery;
import java.util.Optional;

/**
 * Writes a least-squares solution [W; c] ([(n + 1), d] row-major, {@link LeastSquares#solve}) into
 * a pruned model: the projection's weight in its own layout and type, and the intercept as its
 * bias — a Conv's or Gemm's own bias input (added when absent), a MatMul's following bias
 * {@code <weight>.bias} (FLAP's, replaced) or a new one. Stateless.
 */
final class Refit {
  private Refit() {}

  /** Why {@code p} cannot take an intercept in {@code m} (its bias is computed, not stored), or empty. */
  static Optional<String> problem(ModelProto m, Projection p) {
    OnnxGraph g = new OnnxGraph(m);
    NodeProto n = Projection.reader(g, p.weight()).orElseThrow();
    if (!n.getInput(1).equals(p.weight())) {
      return Optional.of(n.getOpType() + " '" + n.getName() + "' reads its weight through a Cast or Identity");
    }
    if (p.kind() != Projection.Kind.MATMUL && n.getInputCount() > 2 && !n.getInput(2).isEmpty() && g.initializer(n
        .getInput(2)).isEmpty()) {
      return Optional.of(n.getOpType() + " '" + n.getName() + "' has a computed bias");
    }
    return Optional.empty();
  }

  static ModelProto apply(ModelProto m, Projection p, double[] x, int n, int d) {
    OnnxGraph g = new OnnxGraph(m);
    NodeProto node = Projection.reader(g, p.weight()).orElseThrow();
    TensorProto w = g.initializer(p.weight()).orElseThrow();
    float[] bias = new float[d];
    for (int c = 0; c < d; c++) {
      bias[c] = (float) x[n * d + c];
    }
    float[] nw = new float[n * d];
    switch (p.kind()) {
      case MATMUL -> {
        for (int i = 0; i < n * d; i++) {
          nw[i] = (float) x[i];
        }
        ModelProto out = replace(m, FloatTensors.tensor(p.weight(), w.getDataType(), nw, n, d));
        String b = p.weight() + ".bias";
        return new OnnxGraph(out).initializer(b).isPresent()
            ? replace(out, FloatTensors.tensor(b, w.getDataType(), bias, d))
            : Surgery.addBias(out, p.weight(), bias);
      }
      case GEMM -> {
        double alpha = Projection.floatAttr(node, "alpha", 1f);
        double beta = Projection.floatAttr(node, "beta", 1f);
        boolean transB = Projection.intAttr(node, "transB", 0) == 1;
        for (int i = 0; i < n; i++) {
          for (int c = 0; c < d; c++) {
            nw[transB ? c * n + i : i * d + c] = (float) (x[i * d + c] / alpha);
          }
        }
        for (int c = 0; c < d; c++) {
          bias[c] = (float) (bias[c] / beta);
        }
        ModelProto out = replace(m, FloatTensors.tensor(p.weight(), w.getDataType(), nw, transB ? new long[] {d, n}
            : new long[] {n, d}));
        return setBias(out, node, p.weight(), w.getDataType(), bias);
      }
      default -> { // CONV: x row (c·q + t) holds W[o, c, t] for output o = column
        long[] dims = w.getDimsList().stream().mapToLong(Long::longValue).toArray();
        for (int i = 0; i < n; i++) {
          for (int o = 0; o < d; o++) {
            nw[o * n + i] = (float) x[i * d + o];
          }
        }
        ModelProto out = replace(m, FloatTensors.tensor(p.weight(), w.getDataType(), nw, dims));
        return setBias(out, node, p.weight(), w.getDataType(), bias);
      }
    }
  }

  /** Input 2 of {@code node} (Conv, Gemm) set to {@code bias}: its initializer replaced, or a new one. */
  private static ModelProto setBias(ModelProto m, NodeProto node, String weight, int type, float[] bias) {
    if (node.getInputCount() > 2 && !node.getInput(2).isEmpty()) {
      return replace(m, FloatTensors.tensor(node.getInput(2), type, bias, bias.length));
    }
    String name = weight + ".bias";
    GraphProto.Builder g = m.getGraph().toBuilder().addInitializer(FloatTensors.tensor(name, type, bias,
        bias.length));
    for (int i = 0; i < g.getNodeCount(); i++) {
      if (g.getNode(i).getName().equals(node.getName()) && g.getNode(i).getOutputList().equals(node
          .getOutputList())) {
        NodeProto.Builder b = g.getNode(i).toBuilder();
        while (b.getInputCount() < 2) {
          b.addInput("");
        }
        if (b.getInputCount() == 2) {
          b.addInput(name);
        } else {
          b.setInput(2, name);
        }
        g.setNode(i, b);
      }
    }
    return m.toBuilder().setGraph(g).build();
  }

  private static ModelProto replace(ModelProto m, TensorProto t) {
    GraphProto.Builder g = m.getGraph().toBuilder();
    for (int i = 0; i < g.getInitializerCount(); i++) {
      if (g.getInitializer(i).getName().equals(t.getName())) {
        g.setInitializer(i, t);
      }
    }
    return m.toBuilder().setGraph(g).build();
  }
}
