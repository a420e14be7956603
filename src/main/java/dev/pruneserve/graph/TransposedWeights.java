package dev.pruneserve.graph;

import com.google.protobuf.UnsafeByteOperations;
import dev.pruneserve.onnx.proto.Onnx.GraphProto;
import dev.pruneserve.onnx.proto.Onnx.ModelProto;
import dev.pruneserve.onnx.proto.Onnx.NodeProto;
import dev.pruneserve.onnx.proto.Onnx.TensorProto;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.HashSet;
import java.util.Set;

/**
 * Folds {@code Transpose(W)} of a 2-D FP32 initializer into a transposed initializer, the form
 * {@code torch.onnx.export(do_constant_folding=False)} leaves for every {@code nn.Linear}: the
 * folded tensor takes the Transpose's output name, the Transpose and the original initializer go.
 * Only initializers read by nothing but that Transpose are folded, so a tied embedding (read by a
 * Gather too) keeps its single copy. The computation is unchanged; the input model is not modified.
 */
public final class TransposedWeights {
  private TransposedWeights() {}

  /** {@code m} with every foldable weight Transpose folded; {@code m} itself when there is none. */
  public static ModelProto fold(ModelProto m) {
    OnnxGraph g = new OnnxGraph(m);
    Set<String> folded = new HashSet<>();
    GraphProto.Builder out = m.getGraph().toBuilder().clearNode();
    for (NodeProto n : m.getGraph().getNodeList()) {
      if (foldable(g, n)) {
        folded.add(n.getInput(0));
        out.addInitializer(transposed(g.initializer(n.getInput(0)).orElseThrow(), n.getOutput(0)));
      } else {
        out.addNode(n);
      }
    }
    if (folded.isEmpty()) {
      return m;
    }
    for (int i = out.getInitializerCount() - 1; i >= 0; i--) {
      if (folded.contains(out.getInitializer(i).getName())) {
        out.removeInitializer(i);
      }
    }
    return m.toBuilder().setGraph(out).build();
  }

  private static boolean foldable(OnnxGraph g, NodeProto n) {
    if (!n.getOpType().equals("Transpose") || n.getInputCount() != 1) {
      return false;
    }
    for (var a : n.getAttributeList()) {
      if (a.getName().equals("perm") && !(a.getIntsCount() == 2 && a.getInts(0) == 1 && a.getInts(1) == 0)) {
        return false;
      }
    }
    String w = n.getInput(0);
    boolean graphInput = g.model().getGraph().getInputList().stream().anyMatch(v -> v.getName().equals(w));
    return !graphInput && g.consumers(w).size() == 1 && g.initializer(w)
        .filter(t -> FloatTensors.isFloat(t.getDataType()) && t.getDimsCount() == 2).isPresent();
  }

  /** The transposed copy in the weight's own type (FP16/BF16 values survive the FP32 round trip exactly). */
  private static TensorProto transposed(TensorProto t, String name) {
    TensorProto f = transpose(name, FloatTensors.values(t), (int) t.getDims(0), (int) t.getDims(1));
    if (t.getDataType() == FloatTensors.FLOAT) {
      return f;
    }
    float[] v = new float[f.getRawData().size() / 4];
    f.getRawData().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(v);
    return f.toBuilder().setDataType(t.getDataType()).setRawData(FloatTensors.encode(v, t.getDataType())).build();
  }

  /** A row-major FP32 matrix [rows, cols] (from {@code src}'s position) as the initializer [cols, rows]. */
  public static TensorProto transpose(String name, FloatBuffer src, int rows, int cols) {
    ByteBuffer b = ByteBuffer.allocate(rows * cols * 4).order(ByteOrder.LITTLE_ENDIAN);
    FloatBuffer dst = b.asFloatBuffer();
    int base = src.position();
    for (int r = 0; r < rows; r++) {
      for (int c = 0; c < cols; c++) {
        dst.put(c * rows + r, src.get(base + r * cols + c));
      }
    }
    return TensorProto.newBuilder().setName(name).setDataType(1).addDims(cols).addDims(rows)
        .setRawData(UnsafeByteOperations.unsafeWrap(b.array())).build();
  }
}
