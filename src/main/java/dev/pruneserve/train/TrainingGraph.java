package dev.pruneserve.train;

import dev.pruneserve.grad.BackwardGraph;
import dev.pruneserve.graph.ModelBuilder;
import dev.pruneserve.graph.OnnxGraph;
import dev.pruneserve.graph.ShapeInference;
import dev.pruneserve.onnx.proto.Onnx.AttributeProto;
import dev.pruneserve.onnx.proto.Onnx.GraphProto;
import dev.pruneserve.onnx.proto.Onnx.ModelProto;
import dev.pruneserve.onnx.proto.Onnx.NodeProto;
import dev.pruneserve.onnx.proto.Onnx.TensorProto;
import dev.pruneserve.onnx.proto.Onnx.ValueInfoProto;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The training form of an NCHW image classifier (one images input, one logits[N, K] output) for a fixed
 * batch size: every FP32 Conv/Gemm/BatchNormalization parameter becomes a graph input ({@link
 * #params}; ONNX Runtime Java cannot override initializers); every BatchNormalization (rank 4)
 * normalises with the batch's statistics, written as ReduceMean/Sub/Mul/Sqrt/Div so {@link
 * BackwardGraph} differentiates it, and outputs the batch mean and biased variance
 * ({@link Norm}); every Conv and Gemm multiplies its input by a mask input {@link Mask} (ones =
 * unmasked: IFSO's per-module input masks); loss = mean softmax cross-entropy against input
 * {@code labels[N, 1]} (int64). Outputs: {@code loss}, the logits, the statistics and
 * {@code grad.<name>} for the requested names.
 */
public record TrainingGraph(ModelProto model, String images, int batch, List<Param> params, List<Mask> masks,
    List<Norm> norms) {
  public static final String LOSS = "loss";
  public static final String LABELS = "labels";
  private static final Set<String> PARAM_OPS = Set.of("Conv", "Gemm", "BatchNormalization");

  /** A trainable tensor: graph input {@code name} with these dims. */
  public record Param(String name, long[] dims) {
    public int size() {
      long n = 1;
      for (long d : dims) {
        n *= d;
      }
      return Math.toIntExact(n);
    }
  }

  /** Input mask of {@code node} (Conv: [1, C, 1, 1], Gemm: [1, K]); {@code weight} is its input 1. */
  public record Mask(String name, String node, String weight, long[] dims, int width) {}

  /** A BatchNormalization in training mode: running statistics initializers and the batch's. */
  public record Norm(String node, String runningMean, String runningVar, String batchMean, String batchVar,
      long count) {}

  /** Which gradients to output: w.r.t. the parameters, the masks, or both. */
  public enum Wrt {
    PARAMS, MASKS, BOTH
  }

  public static TrainingGraph build(ModelProto inference, int batch, Wrt wrt) {
    if (batch < 2) {
      throw new IllegalArgumentException("training needs a batch of at least 2, got " + batch);
    }
    String images = imagesInput(inference);
    if (inference.getGraph().getOutputCount() != 1) {
      throw new IllegalArgumentException("an image classifier has exactly one output (logits [N, classes])");
    }
    String logits = inference.getGraph().getOutput(0).getName();
    ModelProto fixed = fixBatch(inference, images, batch);
    OnnxGraph g = new OnnxGraph(fixed);
    Map<String, long[]> shapes = ShapeInference.infer(g).shapes();
    GraphProto.Builder out = fixed.getGraph().toBuilder().clearNode().clearOutput();
    Map<String, TensorProto> init = new HashMap<>();
    fixed.getGraph().getInitializerList().forEach(t -> init.put(t.getName(), t));
    List<Param> params = new ArrayList<>();
    List<Mask> masks = new ArrayList<>();
    List<Norm> norms = new ArrayList<>();
    Set<String> asInput = new java.util.LinkedHashSet<>();
    int k = 0;
    for (NodeProto n : g.nodes()) {
      String name = n.getName().isEmpty() ? n.getOpType() + "_" + k : n.getName();
      k++;
      if (PARAM_OPS.contains(n.getOpType())) {
        for (int i = 1; i < n.getInputCount(); i++) {
          TensorProto t = init.get(n.getInput(i));
          boolean stat = n.getOpType().equals("BatchNormalization") && i >= 3;
          if (t != null && t.getDataType() == 1 && !stat) {
            asInput.add(t.getName());
          }
        }
      }
      switch (n.getOpType()) {
        case "Conv", "Gemm" -> {
          Mask m = mask(n, name, init.get(n.getInput(1)));
          masks.add(m);
          out.addNode(node("Mul", m.name() + ".node", m.name() + ".x", n.getInput(0), m.name()));
          out.addNode(n.toBuilder().setInput(0, m.name() + ".x"));
        }
        case "BatchNormalization" -> norms.add(batchNorm(out, n, name, shapes.get(n.getInput(0)), opset(inference)));
        default -> out.addNode(n);
      }
    }
    for (int i = out.getInitializerCount() - 1; i >= 0; i--) {
      String n = out.getInitializer(i).getName();
      if (asInput.contains(n) || norms.stream().anyMatch(s -> s.runningMean().equals(n) || s.runningVar().equals(n))) {
        out.removeInitializer(i);
      }
    }
    for (int i = out.getInputCount() - 1; i >= 0; i--) { // IR < 4 lists initializers as inputs too
      String n = out.getInput(i).getName();
      if (asInput.contains(n) || norms.stream().anyMatch(s -> s.runningMean().equals(n) || s.runningVar().equals(n))) {
        out.removeInput(i);
      }
    }
    for (String p : asInput) {
      TensorProto t = init.get(p);
      params.add(new Param(p, t.getDimsList().stream().mapToLong(Long::longValue).toArray()));
      out.addInput(ModelBuilder.valueInfo(p, 1, t.getDimsList().toArray()));
    }
    masks.forEach(m -> out.addInput(ModelBuilder.valueInfo(m.name(), 1, box(m.dims()))));
    out.addInput(ModelBuilder.valueInfo(LABELS, 7, (long) batch, 1L));
    out.addNode(attr(node("LogSoftmax", "ce.logsoftmax", "ce.logp", logits), ModelBuilder.intAttr("axis", 1)));
    out.addNode(attr(node("GatherElements", "ce.gather", "ce.picked", "ce.logp", LABELS),
        ModelBuilder.intAttr("axis", 1)));
    out.addNode(attr(node("ReduceMean", "ce.mean", "ce.meanlogp", "ce.picked"), ModelBuilder.intAttr("keepdims", 0)));
    out.addNode(node("Neg", "ce.neg", LOSS, "ce.meanlogp"));
    out.addOutput(ValueInfoProto.newBuilder().setName(LOSS));
    out.addOutput(ValueInfoProto.newBuilder().setName(logits));
    for (Norm s : norms) {
      out.addOutput(ValueInfoProto.newBuilder().setName(s.batchMean()));
      out.addOutput(ValueInfoProto.newBuilder().setName(s.batchVar()));
    }
    ModelProto forward = fixed.toBuilder().setGraph(out).build();
    List<String> names = new ArrayList<>();
    if (wrt != Wrt.MASKS) {
      params.forEach(p -> names.add(p.name()));
    }
    if (wrt != Wrt.PARAMS) {
      masks.forEach(m -> names.add(m.name()));
    }
    return new TrainingGraph(BackwardGraph.build(forward, LOSS, names), images, batch, params, masks, norms);
  }

  /** The masks {@link #build} inserts, without building the graph (Conv/Gemm nodes in graph order). */
  public static List<Mask> masksOf(ModelProto m) {
    OnnxGraph g = new OnnxGraph(m);
    List<Mask> out = new ArrayList<>();
    int k = 0;
    for (NodeProto n : g.nodes()) {
      String name = n.getName().isEmpty() ? n.getOpType() + "_" + k : n.getName();
      k++;
      if (n.getOpType().equals("Conv") || n.getOpType().equals("Gemm")) {
        out.add(mask(n, name, g.initializer(n.getInput(1)).orElse(null)));
      }
    }
    return out;
  }

  private static Mask mask(NodeProto n, String name, TensorProto w) {
    if (w == null || w.getDimsCount() < 2) {
      throw new IllegalArgumentException(n.getOpType() + " node " + name + ": weight must be an initializer");
    }
    if (n.getOpType().equals("Conv")) {
      long group = n.getAttributeList().stream().filter(a -> a.getName().equals("group")).mapToLong(a -> a.getI())
          .findFirst().orElse(1);
      int c = Math.toIntExact(w.getDims(1) * group);
      return new Mask("mask." + name, name, n.getInput(1), new long[] {1, c, 1, 1}, c);
    }
    boolean transB = n.getAttributeList().stream().anyMatch(a -> a.getName().equals("transB") && a.getI() == 1);
    boolean transA = n.getAttributeList().stream().anyMatch(a -> a.getName().equals("transA") && a.getI() == 1);
    if (transA) {
      throw new IllegalArgumentException("Gemm node " + name + " with transA = 1 is not supported for training");
    }
    int c = Math.toIntExact(w.getDims(transB ? 1 : 0));
    return new Mask("mask." + name, name, n.getInput(1), new long[] {1, c}, c);
  }

  /** ReduceMean over N, H, W: axes as an input from opset 18 on, as an attribute before. */
  private static NodeProto reduceMean(String name, String out, String in, String axes, long opset) {
    return opset >= 18 ? node("ReduceMean", name, out, in, axes)
        : attr(node("ReduceMean", name, out, in), ModelBuilder.intsAttr("axes", 0, 2, 3));
  }

  private static long opset(ModelProto m) {
    return m.getOpsetImportList().stream().filter(o -> o.getDomain().isEmpty() || o.getDomain().equals("ai.onnx"))
        .mapToLong(o -> o.getVersion()).max().orElse(17);
  }

  /** y = (x − mean) / √(var + ε) · γ + β with the batch's mean and biased variance over N, H, W. */
  private static Norm batchNorm(GraphProto.Builder out, NodeProto n, String name, long[] shape, long opset) {
    if (shape == null || shape.length != 4) {
      throw new IllegalArgumentException(
          "BatchNormalization " + name + ": training needs a rank-4 input of known shape");
    }
    float eps = n.getAttributeList().stream().filter(a -> a.getName().equals("epsilon")).map(a -> a.getF())
        .findFirst().orElse(1e-5f);
    String p = "bn." + name;
    out.addInitializer(TensorProto.newBuilder().setName(p + ".eps").setDataType(1).addFloatData(eps));
    out.addInitializer(TensorProto.newBuilder().setName(p + ".axes").setDataType(7).addDims(3).addInt64Data(0)
        .addInt64Data(2).addInt64Data(3)); // N, H, W: the reduction's and the Unsqueezes' axes
    out.addNode(reduceMean(p + ".mean.node", p + ".mean", n.getInput(0), p + ".axes", opset));
    out.addNode(node("Sub", p + ".centre.node", p + ".centred", n.getInput(0), p + ".mean"));
    out.addNode(node("Mul", p + ".sq.node", p + ".sq", p + ".centred", p + ".centred"));
    out.addNode(reduceMean(p + ".var.node", p + ".var", p + ".sq", p + ".axes", opset));
    out.addNode(node("Add", p + ".vareps.node", p + ".vareps", p + ".var", p + ".eps"));
    out.addNode(node("Sqrt", p + ".std.node", p + ".std", p + ".vareps"));
    out.addNode(node("Div", p + ".hat.node", p + ".hat", p + ".centred", p + ".std"));
    out.addNode(node("Unsqueeze", p + ".gamma.node", p + ".gamma", n.getInput(1), p + ".axes"));
    out.addNode(node("Unsqueeze", p + ".beta.node", p + ".beta", n.getInput(2), p + ".axes"));
    out.addNode(node("Mul", p + ".scaled.node", p + ".scaled", p + ".hat", p + ".gamma"));
    out.addNode(node("Add", p + ".out.node", n.getOutput(0), p + ".scaled", p + ".beta"));
    return new Norm(name, n.getInput(3), n.getInput(4), p + ".mean", p + ".var", shape[0] * shape[2] * shape[3]);
  }

  /** The classifier's one graph input that is not an initializer: images [N, C, H, W]. */
  public static String imagesInput(ModelProto m) {
    Set<String> init = new java.util.HashSet<>();
    m.getGraph().getInitializerList().forEach(t -> init.add(t.getName()));
    List<String> in = m.getGraph().getInputList().stream().map(ValueInfoProto::getName).filter(n -> !init.contains(n))
        .toList();
    if (in.size() != 1) {
      throw new IllegalArgumentException("an image classifier takes exactly one input (images [N, C, H, W]); this"
          + " model takes " + in);
    }
    return in.get(0);
  }

  /** The same model with the images input's first dimension fixed to {@code batch}. */
  private static ModelProto fixBatch(ModelProto m, String images, int batch) {
    GraphProto.Builder g = m.getGraph().toBuilder();
    for (int i = 0; i < g.getInputCount(); i++) {
      ValueInfoProto.Builder v = g.getInputBuilder(i);
      if (v.getName().equals(images)) {
        v.getTypeBuilder().getTensorTypeBuilder().getShapeBuilder().getDimBuilder(0).clear().setDimValue(batch);
      }
    }
    return m.toBuilder().setGraph(g).build();
  }

  private static NodeProto node(String op, String name, String output, String... inputs) {
    NodeProto.Builder b = NodeProto.newBuilder().setOpType(op).setName(name).addOutput(output);
    for (String i : inputs) {
      b.addInput(i);
    }
    return b.build();
  }

  private static NodeProto attr(NodeProto n, AttributeProto a) {
    return n.toBuilder().addAttribute(a).build();
  }

  private static Object[] box(long[] dims) {
    Object[] o = new Object[dims.length];
    for (int i = 0; i < dims.length; i++) {
      o[i] = dims[i];
    }
    return o;
  }
}
