package dev.pruneserve.testing;

import dev.pruneserve.onnx.proto.Onnx.ModelProto;
import dev.pruneserve.onnx.proto.Onnx.TensorProto;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.HashMap;
import java.util.Map;

/**
 * Plain-Java oracle for {@code ModelBuilder.mlp} graphs (MatMul+Add+ReLU), computed in float64
 * from the model's own initializers: an independent check of what ORT returns over gRPC.
 */
public final class Reference {
  private Reference() {}

  public static float[] mlp(ModelProto model, float[] x, int batch) {
    Map<String, TensorProto> init = new HashMap<>();
    model.getGraph().getInitializerList().forEach(t -> init.put(t.getName(), t));
    double[] cur = new double[x.length];
    for (int i = 0; i < x.length; i++) {
      cur[i] = x[i];
    }
    for (int l = 0; init.containsKey("layers." + l + ".weight"); l++) {
      TensorProto w = init.get("layers." + l + ".weight");
      float[] wv = floats(w);
      float[] bv = floats(init.get("layers." + l + ".bias"));
      int in = (int) w.getDims(0);
      int out = (int) w.getDims(1);
      boolean last = !init.containsKey("layers." + (l + 1) + ".weight");
      double[] next = new double[batch * out];
      for (int b = 0; b < batch; b++) {
        for (int o = 0; o < out; o++) {
          double s = bv[o];
          for (int i = 0; i < in; i++) {
            s += cur[b * in + i] * wv[i * out + o];
          }
          next[b * out + o] = last ? s : Math.max(0, s);
        }
      }
      cur = next;
    }
    float[] y = new float[cur.length];
    for (int i = 0; i < y.length; i++) {
      y[i] = (float) cur[i];
    }
    return y;
  }

  /** max_i |a_i − b_i| / (1 + |a_i|): allclose with atol = rtol when ≤ tol. */
  public static float maxScaledDiff(float[] a, float[] b) {
    float max = 0;
    for (int i = 0; i < a.length; i++) {
      max = Math.max(max, Math.abs(a[i] - b[i]) / (1f + Math.abs(a[i])));
    }
    return max;
  }

  private static float[] floats(TensorProto t) {
    ByteBuffer b = t.getRawData().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
    float[] out = new float[b.remaining() / 4];
    b.asFloatBuffer().get(out);
    return out;
  }
}
