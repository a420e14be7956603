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
