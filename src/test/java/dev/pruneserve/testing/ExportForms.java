package dev.pruneserve.testing;

import dev.pruneserve.graph.ModelBuilder;
import dev.pruneserve.graph.OnnxGraph;
import dev.pruneserve.graph.ShapeInference;
import dev.pruneserve.onnx.proto.Onnx.GraphProto;
import dev.pruneserve.onnx.proto.Onnx.ModelProto;
import dev.pruneserve.onnx.proto.Onnx.NodeProto;
import dev.pruneserve.onnx.proto.Onnx.TensorProto;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.List;
import java.util.Optional;

/**
 * Rewrites a decoder exported by pruneserve into the forms third-party exporters emit, by
 * structure (ops and shapes, never tensor names), computing the same function:
 * transformers' eager attention casts, {@code view(..., -1, head_dim)} head splits, weights behind
 * {@code Transpose} ({@code do_constant_folding=False}), repeat_kv Expands that name the K/V head
 * count, weights computed in the graph.
 */
public final class ExportForms {
  private ExportForms() {}

  /** Every Softmax's output goes through Cast(float) → Cast(float) before its MatMul. */
  public static ModelProto castsAroundSoftmax(ModelProto m) {
    GraphProto.Builder g = m.getGraph().toBuilder().clearNode();
    for (NodeProto n : m.getGraph().getNodeList()) {
      if (n.getOpType().equals("Softmax")) {
        String y = n.getOutput(0);
        g.addNode(n.toBuilder().setOutput(0, y + ".raw"));
        g.addNode(NodeProto.newBuilder().setOpType("Cast").setName(n.getName() + ".up").addInput(y + ".raw")
            .addOutput(y + ".f32").addAttribute(ModelBuilder.intAttr("to", 1)));
        g.addNode(NodeProto.newBuilder().setOpType("Cast").setName(n.getName() + ".down").addInput(y + ".f32")
            .addOutput(y).addAttribute(ModelBuilder.intAttr("to", 1)));
      } else {
        g.addNode(n);
      }
    }
    return m.toBuilder().setGraph(g).build();
  }

  /** Every constant head-split shape [0, 0, H, hd] becomes [0, 0, −1, hd]. */
  public static ModelProto inferredHeadCounts(ModelProto m) {
    OnnxGraph g = new OnnxGraph(m);
    GraphProto.Builder b = m.getGraph().toBuilder();
    for (int i = 0; i < b.getInitializerCount(); i++) {
      TensorProto t = b.getInitializer(i);
      boolean split = t.getDataType() == 7 && t.getDimsCount() == 1 && t.getDims(0) == 4 && g.consumers(t.getName())
          .stream().allMatch(n -> n.getOpType().equals("Reshape") && g.producer(n.getInput(0))
              .map(p -> !p.getOpType().equals("Expand")).orElse(false));
      long[] v = ShapeInference.int64s(t);
      if (split && v[0] == 0 && v[1] == 0 && v[2] > 0) {
        v[2] = -1;
        b.setInitializer(i, ints(t.getName(), v));
      }
    }
    return m.toBuilder().setGraph(b).build();
  }

  /** repeat_kv Expands broadcasting from [1, 1, rep, 1, 1] name the K/V head count instead. */
  public static ModelProto expandNamingKvHeads(ModelProto m) {
    OnnxGraph g = new OnnxGraph(m);
    GraphProto.Builder b = m.getGraph().toBuilder();
    for (NodeProto n : m.getGraph().getNodeList()) {
      if (!n.getOpType().equals("Expand")) {
        continue;
      }
      String cached = g.producer(n.getInput(0)).orElseThrow().getInput(0); // Unsqueeze(present)
      long kv = m.getGraph().getOutputList().stream().filter(o -> o.getName().equals(cached)).findFirst()
          .map(o -> o.getType().getTensorType().getShape().getDim(1).getDimValue()).orElseThrow();
      for (int i = 0; i < b.getInitializerCount(); i++) {
        if (b.getInitializer(i).getName().equals(n.getInput(1))) {
          long[] v = ShapeInference.int64s(b.getInitializer(i));
          v[1] = kv;
          b.setInitializer(i, ints(n.getInput(1), v));
        }
      }
    }
    return m.toBuilder().setGraph(b).build();
  }

  /**
   * Every MatMul weight [in, out] read by that MatMul only is stored [out, in] and read through
   * Transpose, as torch exports nn.Linear without constant folding.
   */
  public static ModelProto transposedWeights(ModelProto m) {
    OnnxGraph g = new OnnxGraph(m);
    GraphProto.Builder b = m.getGraph().toBuilder().clearNode();
    for (NodeProto n : m.getGraph().getNodeList()) {
      Optional<TensorProto> w = n.getOpType().equals("MatMul") ? g.initializer(n.getInput(1)) : Optional.empty();
      if (w.isPresent() && w.get().getDimsCount() == 2 && g.consumers(n.getInput(1)).size() == 1) {
        String stored = n.getInput(1) + ".stored";
        for (int i = 0; i < b.getInitializerCount(); i++) {
          if (b.getInitializer(i).getName().equals(n.getInput(1))) {
            b.setInitializer(i, transpose(w.get(), stored));
          }
        }
        b.addNode(NodeProto.newBuilder().setOpType("Transpose").setName(stored + ".t").addInput(stored)
            .addOutput(n.getInput(1)).addAttribute(ModelBuilder.intsAttr("perm", 1, 0)));
      }
      b.addNode(n);
    }
    return m.toBuilder().setGraph(b).build();
  }

  /**
   * Every RMSNorm {@code Div(x, Sqrt(ReduceMean(Mul(x, x)) + eps))} written as transformers' LlamaRMSNorm
   * exports: {@code Cast(Mul(Cast(x), Reciprocal(Sqrt(ReduceMean(Pow(Cast(x), 2)) + eps))))}.
   */
  public static ModelProto hfRmsNorm(ModelProto m) {
    OnnxGraph g = new OnnxGraph(m);
    java.util.Set<String> drop = new java.util.HashSet<>();
    java.util.Map<String, List<NodeProto>> replace = new java.util.HashMap<>();
    for (NodeProto d : m.getGraph().getNodeList()) {
      Optional<NodeProto> sqrt = d.getOpType().equals("Div") ? g.producer(d.getInput(1)) : Optional.empty();
      Optional<NodeProto> add = sqrt.filter(n -> n.getOpType().equals("Sqrt")).flatMap(n -> g.producer(n.getInput(0)));
      Optional<NodeProto> mean = add.filter(n -> n.getOpType().equals("Add")).flatMap(n -> g.producer(n.getInput(0)));
      Optional<NodeProto> sq = mean.filter(n -> n.getOpType().equals("ReduceMean")).flatMap(n -> g.producer(n
          .getInput(0)));
      String x = d.getInput(0);
      if (sq.isEmpty() || !sq.get().getOpType().equals("Mul") || !sq.get().getInput(0).equals(x)
          || !sq.get().getInput(1).equals(x)) {
        continue;
      }
      String p = d.getOutput(0) + ".hf";
      List<NodeProto> nodes = List.of(node("Cast", p + ".x32", List.of(x), ModelBuilder.intAttr("to", 1)),
          node("Pow", p + ".pow", List.of(p + ".x32", "hf.two")),
          mean.get().toBuilder().setInput(0, p + ".pow").setOutput(0, p + ".mean").setName(p + ".mean").build(),
          node("Add", p + ".add", List.of(p + ".mean", add.get().getInput(1))),
          node("Sqrt", p + ".sqrt", List.of(p + ".add")), node("Reciprocal", p + ".rsqrt", List.of(p + ".sqrt")),
          node("Mul", p + ".mul", List.of(p + ".x32", p + ".rsqrt")),
          node("Cast", d.getOutput(0), List.of(p + ".mul"), ModelBuilder.intAttr("to", 1)));
      drop.addAll(List.of(sq.get().getOutput(0), mean.get().getOutput(0), add.get().getOutput(0),
          sqrt.get().getOutput(0)));
      replace.put(d.getOutput(0), nodes);
    }
    GraphProto.Builder b = m.getGraph().toBuilder().clearNode();
    b.addInitializer(TensorProto.newBuilder().setName("hf.two").setDataType(1).addFloatData(2f));
    for (NodeProto n : m.getGraph().getNodeList()) {
      if (replace.containsKey(n.getOutput(0))) {
        replace.get(n.getOutput(0)).forEach(b::addNode);
      } else if (!drop.contains(n.getOutput(0))) {
        b.addNode(n);
      }
    }
    return m.toBuilder().setGraph(b).build();
  }

  private static NodeProto node(String op, String out, List<String> in,
      dev.pruneserve.onnx.proto.Onnx.AttributeProto... a) {
    NodeProto.Builder n = NodeProto.newBuilder().setOpType(op).setName(out + ".node").addOutput(out).addAllInput(in);
    for (var x : a) {
      n.addAttribute(x);
    }
    return n.build();
  }

  /** The weight {@code name} read through {@code Mul(W, 1)}: a weight computed in the graph. */
  public static ModelProto computedWeight(ModelProto m, String name) {
    GraphProto.Builder b = m.getGraph().toBuilder().clearNode();
    b.addInitializer(TensorProto.newBuilder().setName(name + ".scale").setDataType(1).addFloatData(1f));
    b.addNode(NodeProto.newBuilder().setOpType("Mul").setName(name + ".dequant").addInput(name)
        .addInput(name + ".scale").addOutput(name + ".computed"));
    for (NodeProto n : m.getGraph().getNodeList()) {
      NodeProto.Builder nb = n.toBuilder();
      for (int i = 0; i < nb.getInputCount(); i++) {
        if (nb.getInput(i).equals(name)) {
          nb.setInput(i, name + ".computed");
        }
      }
      b.addNode(nb);
    }
    return m.toBuilder().setGraph(b).build();
  }

  /** position_ids = Unsqueeze(Range(past, past + seq)) from the cache length and input_ids. */
  public static ModelProto withoutPositionIds(ModelProto m) {
    GraphProto.Builder g = m.getGraph().toBuilder();
    for (int i = 0; i < g.getInputCount(); i++) {
      if (g.getInput(i).getName().equals("position_ids")) {
        g.removeInput(i);
        break;
      }
    }
    g.addInitializer(scalar("pos.two", 2)).addInitializer(scalar("pos.one", 1))
        .addInitializer(TensorProto.newBuilder().setName("pos.axes").setDataType(7).addDims(1).addInt64Data(0));
    NodeProto[] nodes = {posNode("Shape", "pos.pk", "past_key_values.0.key"), posNode("Gather", "pos.past", "pos.pk",
        "pos.two"), posNode("Shape", "pos.si", "input_ids"), posNode("Gather", "pos.seq", "pos.si", "pos.one"),
        posNode("Add", "pos.end", "pos.past", "pos.seq"),
        posNode("Range", "pos.range", "pos.past", "pos.end", "pos.one"),
        posNode("Unsqueeze", "position_ids", "pos.range", "pos.axes")};
    GraphProto.Builder out = g.clearNode();
    for (NodeProto n : nodes) {
      out.addNode(n);
    }
    m.getGraph().getNodeList().forEach(out::addNode);
    return m.toBuilder().setGraph(out).build();
  }

  private static TensorProto scalar(String name, long v) {
    return TensorProto.newBuilder().setName(name).setDataType(7).addInt64Data(v).build();
  }

  private static NodeProto posNode(String op, String out, String... in) {
    NodeProto.Builder b = NodeProto.newBuilder().setOpType(op).setName(out + ".node").addOutput(out);
    for (String i : in) {
      b.addInput(i);
    }
    return b.build();
  }

  private static TensorProto ints(String name, long[] v) {
    TensorProto.Builder t = TensorProto.newBuilder().setName(name).setDataType(7).addDims(v.length);
    for (long x : v) {
      t.addInt64Data(x);
    }
    return t.build();
  }

  private static TensorProto transpose(TensorProto t, String name) {
    int rows = (int) t.getDims(0);
    int cols = (int) t.getDims(1);
    FloatBuffer src = t.getRawData().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
    ByteBuffer out = ByteBuffer.allocate(rows * cols * 4).order(ByteOrder.LITTLE_ENDIAN);
    for (int c = 0; c < cols; c++) {
      for (int r = 0; r < rows; r++) {
        out.putFloat(src.get(r * cols + c));
      }
    }
    return TensorProto.newBuilder().setName(name).setDataType(1).addDims(cols).addDims(rows)
        .setRawData(com.google.protobuf.ByteString.copyFrom(out.array())).build();
  }
}
