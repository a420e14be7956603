package dev.pruneserve.graph;

import com.google.protobuf.UnsafeByteOperations;
import dev.pruneserve.onnx.proto.Onnx.TensorProto;
import java.util.Arrays;
import java.util.BitSet;

/**
 * Row-major FP32 raw-data tensors seen as [outer, dims[axis], inner]: drop or zero indices along
 * one axis. Inputs are not changed.
 */
public final class Slicing {
  private Slicing() {}

  /** {@code t} without indices {@code drop} along {@code axis}. */
  public static TensorProto drop(TensorProto t, int axis, BitSet drop) {
    Shape s = shape(t, axis, drop);
    int kept = s.n - drop.cardinality();
    byte[] src = t.getRawData().toByteArray();
    byte[] dst = new byte[s.outer * kept * s.inner * 4];
    int k = 0;
    for (int o = 0; o < s.outer; o++) {
      for (int i = 0; i < s.n; i++) {
        if (!drop.get(i)) {
          System.arraycopy(src, (o * s.n + i) * s.inner * 4, dst, k++ * s.inner * 4, s.inner * 4);
        }
      }
    }
    return t.toBuilder().setDims(axis, kept).setRawData(UnsafeByteOperations.unsafeWrap(dst)).build();
  }

  /** {@code t} with indices {@code zero} along {@code axis} set to 0 (same shape). */
  public static TensorProto zero(TensorProto t, int axis, BitSet zero) {
    Shape s = shape(t, axis, zero);
    byte[] b = t.getRawData().toByteArray();
    for (int o = 0; o < s.outer; o++) {
      for (int i = zero.nextSetBit(0); i >= 0; i = zero.nextSetBit(i + 1)) {
        int from = (o * s.n + i) * s.inner * 4;
        Arrays.fill(b, from, from + s.inner * 4, (byte) 0);
      }
    }
    return t.toBuilder().setRawData(UnsafeByteOperations.unsafeWrap(b)).build();
  }

  /** Σ |w|^p over every element with index i along {@code axis}, for each i (float64). */
  public static double[] power(TensorProto t, int axis, int p) {
    Shape s = shape(t, axis, new BitSet());
    java.nio.FloatBuffer f = t.getRawData().asReadOnlyByteBuffer().order(java.nio.ByteOrder.LITTLE_ENDIAN)
        .asFloatBuffer();
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

  private record Shape(int outer, int n, int inner) {}

  private static Shape shape(TensorProto t, int axis, BitSet indices) {
    if (t.getDataType() != 1 /* FLOAT */ || !t.hasRawData()) {
      throw new IllegalArgumentException("initializer " + t.getName() + ": only FP32 with raw_data can be sliced");
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
    return new Shape(outer, n, inner);
  }
}
