package dev.pruneserve.grad;

import dev.pruneserve.graph.OnnxGraph;
import dev.pruneserve.graph.ShapeInference;
import dev.pruneserve.onnx.proto.Onnx.GraphProto;
import dev.pruneserve.onnx.proto.Onnx.ModelProto;
import dev.pruneserve.onnx.proto.Onnx.NodeProto;
import dev.pruneserve.onnx.proto.Onnx.ValueInfoProto;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Reverse-mode differentiation of an ONNX graph, emitted as standard ONNX ops so any inference
 * runtime (CPU or CUDA) can run it: given a forward graph with a scalar {@code loss} output and the
 * values to differentiate by (initializers, graph inputs such as per-channel masks, or inner
 * values), the result is the same graph with extra outputs {@code grad.<name>} = ∂loss/∂name,
 * shaped like the value. Only nodes between those values and the loss get backward nodes; an op
 * on that path without a rule ({@link VjpRules#OPS}) is an error naming it. The forward outputs
 * stay. Static shapes (from {@link ShapeInference}) are needed where a rule uses ranks or sizes.
 */
public final class BackwardGraph {
  public static final String PREFIX = "grad.";

  private BackwardGraph() {}

  public static String gradName(String value) {
    return PREFIX + value;
  }

  public static ModelProto build(ModelProto forward, String loss, List<String> wrt) {
    return build(forward, loss, wrt, false);
  }

  /** As above; {@code runTimeShapes} makes every broadcast reduction use run-time shapes. */
  static ModelProto build(ModelProto forward, String loss, List<String> wrt, boolean runTimeShapes) {
    long opset = forward.getOpsetImportList().stream().filter(o -> o.getDomain().isEmpty()
        || o.getDomain().equals("ai.onnx")).mapToLong(o -> o.getVersion()).max().orElse(0);
    if (opset < 13) { // the rules emit axes as inputs (ReduceSum, Unsqueeze) and opset-13 Softmax
      throw new UnsupportedOperationException("backward graphs need default-domain opset >= 13, the model has "
          + opset);
    }
    OnnxGraph fg = new OnnxGraph(forward);
    List<NodeProto> nodes = fg.nodes();
    for (NodeProto n : nodes) {
      for (String o : n.getOutputList()) {
        if (o.startsWith(PREFIX)) {
          throw new IllegalArgumentException("value '" + o + "' uses the reserved prefix " + PREFIX);
        }
      }
    }
    Set<String> needs = new HashSet<>(wrt); // values that depend on a wrt value
    for (NodeProto n : nodes) {
      if (n.getInputList().stream().anyMatch(needs::contains)) {
        needs.addAll(n.getOutputList());
      }
    }
    if (!needs.contains(loss)) {
      throw new IllegalArgumentException("loss '" + loss + "' does not depend on any of " + wrt);
    }
    Map<String, long[]> shapes = new java.util.HashMap<>(ShapeInference.infer(fg).shapes());
    java.util.function.Function<String, long[]> constants = v -> fg.constant(v).map(ShapeInference::int64s)
        .orElse(null);
    Ranks.complete(nodes, shapes, constants);
    GraphProto.Builder g = forward.getGraph().toBuilder();
    Emitter e = new Emitter(g, runTimeShapes);
    VjpRules rules = new VjpRules(e, shapes, constants);
    for (int k = 0; k < g.getNodeCount(); k++) { // MaxPool on the path: also output its argmax indices
      NodeProto n = g.getNode(k);
      if (n.getOpType().equals("MaxPool") && needs.contains(n.getInput(0)) && n.getOutputCount() == 1) {
        String idx = PREFIX + "indices." + n.getOutput(0);
        g.setNode(k, n.toBuilder().addOutput(idx));
        rules.poolIndices(n.getOutput(0), idx);
      } else if (n.getOpType().equals("MaxPool") && n.getOutputCount() > 1) {
        rules.poolIndices(n.getOutput(0), n.getOutput(1));
      }
    }
    Map<String, List<String>> contributions = new HashMap<>();
    contributions.computeIfAbsent(loss, k -> new ArrayList<>()).add(e.onesLike(loss));
    for (int k = nodes.size() - 1; k >= 0; k--) {
      NodeProto n = nodes.get(k);
      String out = n.getOutput(0);
      if (n.getOpType().equals("Split") && needs.contains(n.getInput(0))) {
        List<String> parts = new ArrayList<>();
        n.getOutputList().forEach(o -> parts.add(contributions.containsKey(o) ? sum(e, contributions.get(o)) : null));
        if (parts.stream().anyMatch(p -> p != null)) {
          contributions.computeIfAbsent(n.getInput(0), x -> new ArrayList<>()).add(rules.split(n, parts));
        }
        continue;
      }
      for (int o = 1; o < n.getOutputCount(); o++) {
        if (contributions.containsKey(n.getOutput(o))) {
          throw new UnsupportedOperationException(n.getOpType() + " node " + n.getName()
              + ": gradient through output " + o);
        }
      }
      if (!contributions.containsKey(out) || n.getInputList().stream().noneMatch(needs::contains)) {
        continue;
      }
      String[] gin = rules.vjp(n, sum(e, contributions.get(out)), needs);
      for (int i = 0; i < gin.length; i++) {
        if (gin[i] != null && needs.contains(n.getInput(i))) {
          contributions.computeIfAbsent(n.getInput(i), x -> new ArrayList<>()).add(gin[i]);
        }
      }
    }
    Map<String, String> results = new LinkedHashMap<>();
    for (String w : wrt) {
      List<String> c = contributions.get(w);
      String gw = c == null ? e.op("Mul", e.onesLike(w), e.scalar(0f)) : sum(e, c);
      results.put(w, gw);
    }
    for (Map.Entry<String, String> r : results.entrySet()) {
      g.addNode(NodeProto.newBuilder().setOpType("Identity").setName(gradName(r.getKey()) + ".node")
          .addInput(r.getValue()).addOutput(gradName(r.getKey())));
      g.addOutput(ValueInfoProto.newBuilder().setName(gradName(r.getKey())));
    }
    dropUnused(g);
    return forward.toBuilder().setGraph(g).build();
  }

  /** Removes initializers no node reads (constants the rules emitted but did not use). */
  private static void dropUnused(GraphProto.Builder g) {
    Set<String> read = new HashSet<>();
    g.getNodeList().forEach(n -> read.addAll(n.getInputList()));
    g.getOutputList().forEach(o -> read.add(o.getName()));
    for (int i = g.getInitializerCount() - 1; i >= 0; i--) {
      if (g.getInitializer(i).getName().startsWith(PREFIX) && !read.contains(g.getInitializer(i).getName())) {
        g.removeInitializer(i);
      }
    }
  }

  private static String sum(Emitter e, List<String> parts) {
    String s = parts.get(0);
    for (int i = 1; i < parts.size(); i++) {
      s = e.op("Add", s, parts.get(i));
    }
    return s;
  }
}
