package dev.pruneserve.graph;

import dev.pruneserve.onnx.proto.Onnx.AttributeProto;
import dev.pruneserve.onnx.proto.Onnx.NodeProto;
import dev.pruneserve.onnx.proto.Onnx.TensorProto;
import dev.pruneserve.onnx.proto.Onnx.ValueInfoProto;
import java.util.Arrays;

/** Pure shape arithmetic and attribute access for {@link ShapeInference}; −1 = unknown dimension. */
final class ShapeMath {
  private ShapeMath() {}

  static long[] broadcast(long[] a, long[] b) {
    if (a == null || b == null) {
      return null;
    }
    int r = Math.max(a.length, b.length);
    long[] out = new long[r];
    for (int i = 0; i < r; i++) {
      long x = i < r - a.length ? 1 : a[i - (r - a.length)];
      long y = i < r - b.length ? 1 : b[i - (r - b.length)];
      if (x > 1 && y > 1 && x != y) {
        throw new IllegalStateException("cannot broadcast " + Arrays.toString(a) + " with " + Arrays.toString(b));
      }
      out[i] = x == 1 ? y : y == 1 ? x : x < 0 ? y : x;
    }
    return out;
  }

  /** MaxPool / AveragePool [N, C, spatial...] with explicit pads (floor mode); null when unknown. */
  static long[] pool(long[] x, NodeProto n) {
    long[] k = null;
    long[] strides = null;
    long[] pads = null;
    long[] dil = null;
    for (AttributeProto a : n.getAttributeList()) {
      long[] v = a.getIntsList().stream().mapToLong(Long::longValue).toArray();
      switch (a.getName()) {
        case "kernel_shape" -> k = v;
        case "strides" -> strides = v;
        case "pads" -> pads = v;
        case "dilations" -> dil = v;
        case "auto_pad", "ceil_mode" -> {
          if (a.getName().equals("ceil_mode") ? a.getI() != 0 : !a.getS().toStringUtf8().equals("NOTSET")) {
            return null;
          }
        }
        default -> {}
      }
    }
    if (x == null || k == null || x.length != k.length + 2) {
      return null;
    }
    long[] out = x.clone();
    for (int d = 0; d < k.length; d++) {
      long s = strides == null ? 1 : strides[d];
      long p = pads == null ? 0 : pads[d] + pads[d + k.length];
      long dl = dil == null ? 1 : dil[d];
      out[d + 2] = x[d + 2] < 0 ? -1 : (x[d + 2] + p - dl * (k[d] - 1) - 1) / s + 1;
    }
    return out;
  }

  /** [..., M, K] × [..., K, N] (batch dimensions broadcast). */
  static long[] matmul(long[] a, long[] b) {
    if (a == null || b == null || a.length < 2 || b.length < 2) {
      return null;
    }
    long k = a[a.length - 1];
    long kb = b[b.length - 2];
    if (k >= 0 && kb >= 0 && k != kb) {
      throw new IllegalStateException("inner dimensions differ: " + Arrays.toString(a) + " × " + Arrays.toString(b));
    }
    long[] batch = broadcast(Arrays.copyOf(a, a.length - 2), Arrays.copyOf(b, b.length - 2));
    long[] out = Arrays.copyOf(batch, batch.length + 2);
    out[batch.length] = a[a.length - 2];
    out[batch.length + 1] = b[b.length - 1];
    return out;
  }

  static long[] pool(long[] x) {
    return x == null || x.length != 4 ? null : new long[] {x[0], x[1], 1, 1};
  }

  static long product(long[] x, int from, int to) {
    long p = 1;
    for (int i = from; i < to; i++) {
      if (x[i] < 0) {
        return -1;
      }
      p *= x[i];
    }
    return p;
  }

  static long clamp(long v, long n) {
    return Math.max(0, Math.min(v, n));
  }

  static long[] declared(ValueInfoProto v) {
    if (!v.getType().getTensorType().hasShape()) {
      return null;
    }
    return v.getType().getTensorType().getShape().getDimList().stream()
        .mapToLong(d -> d.hasDimValue() ? d.getDimValue() : -1).toArray();
  }

  /** The values of an int64 tensor, from int64_data or raw little-endian data. */
  public static long[] int64s(TensorProto t) {
    if (t.getInt64DataCount() > 0) {
      return t.getInt64DataList().stream().mapToLong(Long::longValue).toArray();
    }
    java.nio.LongBuffer b = t.getRawData().asReadOnlyByteBuffer().order(java.nio.ByteOrder.LITTLE_ENDIAN)
        .asLongBuffer();
    long[] out = new long[b.remaining()];
    b.get(out);
    return out;
  }

  static long attr(NodeProto n, String name, long dflt) {
    return n.getAttributeList().stream().filter(a -> a.getName().equals(name)).mapToLong(AttributeProto::getI)
        .findFirst().orElse(dflt);
  }

  static long[] ints(NodeProto n, String name, long... dflt) {
    return n.getAttributeList().stream().filter(a -> a.getName().equals(name))
        .map(a -> a.getIntsList().stream().mapToLong(Long::longValue).toArray()).findFirst()
        .orElse(dflt.length == 0 ? null : dflt);
  }

  static String str(NodeProto n, String name) {
    return n.getAttributeList().stream().filter(a -> a.getName().equals(name)).map(a -> a.getS().toStringUtf8())
        .findFirst().orElse("");
  }
}
