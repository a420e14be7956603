package dev.pruneserve.graph;

import com.google.protobuf.UnsafeByteOperations;
import dev.pruneserve.onnx.proto.Onnx.TensorProto;
import java.util.Arrays;
import java.util.BitSet;

/**
 * Row-major floating-point tensors (FP32, FP16, BF16; raw or typed storage, results always raw in
 * the tensor's own type) seen as [outer, dims[axis], inner]: drop or zero indices along one axis.
 * Inputs are not changed.
 */
public final class Slicing {
  private Slicing() {}

  /** {@code t} without indices {@code drop} along {@code axis}. */
  public static TensorProto drop(TensorProto t, int axis, BitSet drop) {
    Shape s = shape(t, axis, drop);
    int kept = s.n - drop.cardinality();
    int e = s.bytes;
    byte[] src = bytes(t);
    byte[] dst = new byte[s.outer * kept * s.inner * e];
    int k = 0;
    for (int o = 0; o < s.outer; o++) {
      for (int i = 0; i < s.n; i++) {
        if (!drop.get(i)) {
          System.arraycopy(src, (o * s.n + i) * s.inner * e, dst, k++ * s.inner * e, s.inner * e);
        }
      }
    }
    return raw(t).setDims(axis, kept).setRawData(UnsafeByteOperations.unsafeWrap(dst)).build();
  }

  /** {@code t} with indices {@code zero} along {@code axis} set to 0 (same shape). */
  public static TensorProto zero(TensorProto t, int axis, BitSet zero) {
    Shape s = shape(t, axis, zero);
    int e = s.bytes;
    byte[] b = bytes(t);
    for (int o = 0; o < s.outer; o++) {
      for (int i = zero.nextSetBit(0); i >= 0; i = zero.nextSetBit(i + 1)) {
        int from = (o * s.n + i) * s.inner * e;
        Arrays.fill(b, from, from + s.inner * e, (byte) 0);
      }
    }
    return raw(t).setRawData(UnsafeByteOperations.unsafeWrap(b)).build();
  }

  /** {@code t} with indices {@code idx} along {@code axis} set to {@code value} (same shape and type). */
  public static TensorProto fill(TensorProto t, int axis, BitSet idx, float value) {
    Shape s = shape(t, axis, idx);
    java.nio.FloatBuffer src = FloatTensors.values(t);
    float[] v = new float[src.remaining()];
    src.get(v);
    for (int o = 0; o < s.outer; o++) {
      for (int i = idx.nextSetBit(0); i >= 0; i = idx.nextSetBit(i + 1)) {
        int from = (o * s.n + i) * s.inner;
        Arrays.fill(v, from, from + s.inner, value);
      }
    }
    return raw(t).setRawData(FloatTensors.encode(v, t.getDataType())).build();
  }

  /** A copy of the tensor's bytes in its own type, from raw or typed storage. */
  private static byte[] bytes(TensorProto t) {
    return t.hasRawData() ? t.getRawData().toByteArray()
        : FloatTensors.encode(FloatTensors.values(t).array(), t.getDataType()).toByteArray();
  }

  /** The tensor's builder without typed storage (its data goes to raw_data). */
  private static TensorProto.Builder raw(TensorProto t) {
    return t.toBuilder().clearFloatData().clearInt32Data();
  }

  /** Σ |w|^p over every element with index i along {@code axis}, for each i (float64). */
  public static double[] power(TensorProto t, int axis, int p) {
    Shape s = shape(t, axis, new BitSet());
    java.nio.FloatBuffer f = FloatTensors.values(t);
    double[] out = new double[s.n];
    for (int o = 0; o < s.outer; o++) {
      for (int i = 0; i < s.n; i++) {
        int base = (o * s.n + i) * s.inner;
        for (int k = 0; k < s.inner; k++) {
          double a = Math.abs(f.get(base + k));
          out[i] += p == 1 ? a : a * a;
        }
      }
    }
    return out;
  }

  private record Shape(int outer, int n, int inner, int bytes) {}

  private static Shape shape(TensorProto t, int axis, BitSet indices) {
    if (!FloatTensors.isFloat(t.getDataType()) || t.getDataLocation() == TensorProto.DataLocation.EXTERNAL) {
      throw new IllegalArgumentException("initializer " + t.getName() + ": only FP32, FP16 and BF16 tensors held in"
          + " memory can be sliced (data type " + t.getDataType() + ")");
    }
    if (axis >= t.getDimsCount()) {
      throw new IllegalArgumentException(
          "initializer " + t.getName() + ": no axis " + axis + " in rank " + t.getDimsCount());
    }
    int outer = 1;
    int inner = 1;
    for (int d = 0; d < t.getDimsCount(); d++) {
      if (d < axis) {
        outer *= (int) t.getDims(d);
      } else if (d > axis) {
        inner *= (int) t.getDims(d);
      }
    }
    int n = (int) t.getDims(axis);
    if (indices.length() > n) {
      throw new IllegalArgumentException("initializer " + t.getName() + ": index " + (indices.length() - 1)
          + " out of range [0, " + n + ") on axis " + axis);
    }
    return new Shape(outer, n, inner, ExternalData.elementBytes(t.getDataType()));
  }
}
