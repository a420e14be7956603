package dev.pruneserve.graph;

import dev.pruneserve.onnx.proto.Onnx.GraphProto;
import dev.pruneserve.onnx.proto.Onnx.ModelProto;
import dev.pruneserve.onnx.proto.Onnx.NodeProto;
import dev.pruneserve.onnx.proto.Onnx.TensorProto;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Read-only index over a model's main graph: which node produces each value, which nodes consume
 * it, and the initializers by name. Built once; immutable; thread-safe. Knows nothing of pruning.
 */
public final class OnnxGraph {
  private final ModelProto model;
  private final Map<String, Integer> producer = new HashMap<>();
  private final Map<String, List<Integer>> consumers = new HashMap<>();
  private final Map<String, TensorProto> initializers = new HashMap<>();

  public OnnxGraph(ModelProto model) {
    this.model = model;
    GraphProto g = model.getGraph();
    for (int i = 0; i < g.getNodeCount(); i++) {
      NodeProto n = g.getNode(i);
      for (String out : n.getOutputList()) {
        producer.put(out, i);
      }
      for (String in : n.getInputList()) {
        consumers.computeIfAbsent(in, k -> new ArrayList<>()).add(i);
      }
    }
    g.getInitializerList().forEach(t -> initializers.put(t.getName(), t));
  }

  public ModelProto model() {
    return model;
  }

  public List<NodeProto> nodes() {
    return model.getGraph().getNodeList();
  }

  public NodeProto node(int index) {
    return model.getGraph().getNode(index);
  }

  /** The node producing {@code value}, if any (graph inputs and initializers have none). */
  public Optional<NodeProto> producer(String value) {
    Integer i = producer.get(value);
    return i == null ? Optional.empty() : Optional.of(node(i));
  }

  public List<NodeProto> consumers(String value) {
    return consumers.getOrDefault(value, List.of()).stream().map(this::node).toList();
  }

  public Optional<TensorProto> initializer(String name) {
    return Optional.ofNullable(initializers.get(name));
  }

  /**
   * A constant tensor by value name: an initializer, or the {@code value} attribute of the
   * {@code Constant} node producing it (exporters write small shapes and scalars that way).
   */
  public Optional<TensorProto> constant(String name) {
    Optional<TensorProto> t = initializer(name);
    if (t.isPresent()) {
      return t;
    }
    return producer(name).filter(n -> n.getOpType().equals("Constant")).flatMap(n -> n.getAttributeList().stream()
        .filter(a -> a.getName().equals("value") && a.hasT()).findFirst().map(a -> a.getT()));
  }

  /** The only consumer of {@code value} with op type {@code op}, if exactly one exists. */
  public Optional<NodeProto> soleConsumer(String value, String op) {
    List<NodeProto> c = consumers(value).stream().filter(n -> n.getOpType().equals(op)).toList();
    return c.size() == 1 ? Optional.of(c.get(0)) : Optional.empty();
  }
}
