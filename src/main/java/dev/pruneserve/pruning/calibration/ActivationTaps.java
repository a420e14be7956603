package dev.pruneserve.pruning.calibration;

import dev.pruneserve.onnx.proto.Onnx.GraphProto;
import dev.pruneserve.onnx.proto.Onnx.ModelProto;
import dev.pruneserve.onnx.proto.Onnx.NodeProto;
import dev.pruneserve.onnx.proto.Onnx.ValueInfoProto;
import java.util.List;

/**
 * Adds in-graph reduction taps to a copy of a model: for each tapped value x [batch, seq, C] the
 * graph gains outputs {@code tap.<x>.sum} = Σ x and {@code tap.<x>.sumsq} = Σ x² over batch and
 * sequence ([C] each, FP32 also for FP16/BF16 models: x is cast first), so only per-channel
 * vectors leave ONNX Runtime.
 */
public final class ActivationTaps {
  private ActivationTaps() {}

  public static String sum(String value) {
    return "tap." + value + ".sum";
  }

  public static String sumSquares(String value) {
    return "tap." + value + ".sumsq";
  }

  public static ModelProto add(ModelProto model, List<String> values) {
    GraphProto.Builder g = model.getGraph().toBuilder();
    long opset = dev.pruneserve.graph.Reductions.opset(model);
    for (String v : values) {
      String x = "tap." + v + ".f32"; // statistics in FP32 whatever the model's type (exact for FP32)
      String sq = "tap." + v + ".sq";
      g.addNode(NodeProto.newBuilder().setOpType("Cast").setName(x + ".node").addInput(v).addOutput(x)
          .addAttribute(dev.pruneserve.graph.ModelBuilder.intAttr("to", 1)));
      g.addNode(node("Mul", new String[] {x, x}, sq));
      g.addNode(dev.pruneserve.graph.Reductions.reduce("ReduceSum", x, sum(v), new long[] {0, 1}, false, opset, g));
      g.addNode(dev.pruneserve.graph.Reductions.reduce("ReduceSum", sq, sumSquares(v), new long[] {0, 1}, false, opset,
          g));
      g.addOutput(ValueInfoProto.newBuilder().setName(sum(v)));
      g.addOutput(ValueInfoProto.newBuilder().setName(sumSquares(v)));
    }
    return model.toBuilder().setGraph(g).build();
  }

  private static NodeProto node(String op, String[] in, String out) {
    NodeProto.Builder n = NodeProto.newBuilder().setOpType(op).setName(out + ".node").addOutput(out);
    for (String i : in) {
      n.addInput(i);
    }
    return n.build();
  }
}
