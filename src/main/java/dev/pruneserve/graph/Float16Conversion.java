package dev.pruneserve.graph;

import com.google.protobuf.ByteString;
import dev.pruneserve.onnx.proto.Onnx.AttributeProto;
import dev.pruneserve.onnx.proto.Onnx.GraphProto;
import dev.pruneserve.onnx.proto.Onnx.ModelProto;
import dev.pruneserve.onnx.proto.Onnx.NodeProto;
import dev.pruneserve.onnx.proto.Onnx.TensorProto;
import dev.pruneserve.onnx.proto.Onnx.ValueInfoProto;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;

/**
 * An FP32 model converted to FP16 the way onnxconverter-common's {@code
 * convert_float_to_float16(keep_io_types=True)} does: every FP32 initializer and Constant becomes
 * FP16, Casts to float become Casts to float16, float graph inputs are cast to FP16 on entry and
 * float outputs back to FP32 on exit, intermediate value_info dropped; constants are clipped to
 * ±65504 (mask constants such as −1e9 would become −inf and 0·−inf NaN). The same function up to
 * FP16 rounding; callers keep FP32 inputs and outputs. Stateless.
 */
public final class Float16Conversion {
  private Float16Conversion() {}

  public static ModelProto convert(ModelProto m) {
    GraphProto src = m.getGraph();
    GraphProto.Builder g = src.toBuilder().clearNode().clearInitializer().clearValueInfo().clearOutput();
    for (TensorProto t : src.getInitializerList()) {
      g.addInitializer(half(t));
    }
    for (ValueInfoProto in : src.getInputList()) {
      if (in.getType().getTensorType().getElemType() == 1) {
        g.addNode(cast(in.getName(), in.getName() + ".fp16", 10));
      }
    }
    java.util.Set<String> halfInputs = new java.util.HashSet<>();
    src.getInputList().stream().filter(i -> i.getType().getTensorType().getElemType() == 1)
        .forEach(i -> halfInputs.add(i.getName()));
    java.util.Set<String> floatOutputs = new java.util.HashSet<>();
    src.getOutputList().stream().filter(o -> o.getType().getTensorType().getElemType() == 1)
        .forEach(o -> floatOutputs.add(o.getName()));
    for (NodeProto n : src.getNodeList()) {
      NodeProto.Builder b = n.toBuilder();
      for (int i = 0; i < b.getInputCount(); i++) {
        if (halfInputs.contains(b.getInput(i)) || floatOutputs.contains(b.getInput(i))) {
          b.setInput(i, b.getInput(i) + ".fp16");
        }
      }
      for (int o = 0; o < b.getOutputCount(); o++) {
        if (floatOutputs.contains(b.getOutput(o))) {
          b.setOutput(o, b.getOutput(o) + ".fp16");
        }
      }
      for (int a = 0; a < b.getAttributeCount(); a++) {
        AttributeProto at = b.getAttribute(a);
        if (n.getOpType().equals("Cast") && at.getName().equals("to") && at.getI() == 1) {
          b.setAttribute(a, ModelBuilder.intAttr("to", 10));
        } else if (at.hasT() && at.getT().getDataType() == 1) {
          b.setAttribute(a, at.toBuilder().setT(half(at.getT())));
        }
      }
      g.addNode(b);
    }
    for (ValueInfoProto out : src.getOutputList()) {
      if (floatOutputs.contains(out.getName())) {
        g.addNode(cast(out.getName() + ".fp16", out.getName(), 1));
      }
      g.addOutput(out);
    }
    return m.toBuilder().setGraph(g).build();
  }

  private static NodeProto cast(String in, String out, int to) {
    return NodeProto.newBuilder().setOpType("Cast").setName("cast." + out).addInput(in).addOutput(out)
        .addAttribute(ModelBuilder.intAttr("to", to)).build();
  }

  /** {@code t} as FP16 (clipped to ±65504) when it is FP32; other tensors unchanged. */
  public static TensorProto half(TensorProto t) {
    if (t.getDataType() != 1) {
      return t;
    }
    FloatBuffer f;
    int n;
    if (t.hasRawData()) {
      f = t.getRawData().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
      n = f.remaining();
    } else {
      f = FloatBuffer.allocate(t.getFloatDataCount());
      t.getFloatDataList().forEach(f::put);
      f.flip();
      n = f.remaining();
    }
    ByteBuffer b = ByteBuffer.allocate(2 * n).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < n; i++) {
      float v = Math.max(-65504f, Math.min(65504f, f.get(i))); // clipped to FP16's range, as the converter does
      b.putShort(FloatTensors.floatToHalf(v));
    }
    return t.toBuilder().clearFloatData().setDataType(10).setRawData(ByteString.copyFrom(b.array())).build();
  }
}
