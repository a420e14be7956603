package dev.pruneserve.testing;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;

/**
 * Writes {@code .safetensors} files in test code, independently of the server's reader: F32, F16
 * (round to nearest even, subnormals included) or BF16 (round to nearest even). {@link #rounded}
 * gives the values a reader must get back.
 */
public final class Safetensor {
  private Safetensor() {}

  public record Tensor(long[] shape, float[] values) {}

  /** Writes {@code tensors} in {@code dtype} ("F32", "F16", "BF16"), names sorted, header padded to 8. */
  public static void write(Path file, Map<String, Tensor> tensors, String dtype) throws IOException {
    int width = dtype.equals("F32") ? 4 : 2;
    StringBuilder h = new StringBuilder("{\"__metadata__\":{\"format\":\"pt\"}");
    long offset = 0;
    Map<String, Tensor> sorted = new TreeMap<>(tensors);
    for (Map.Entry<String, Tensor> e : sorted.entrySet()) {
      long bytes = (long) e.getValue().values().length * width;
      h.append(",\"").append(e.getKey()).append("\":{\"dtype\":\"").append(dtype).append("\",\"shape\":[");
      long[] s = e.getValue().shape();
      for (int i = 0; i < s.length; i++) {
        h.append(i == 0 ? "" : ",").append(s[i]);
      }
      h.append("],\"data_offsets\":[").append(offset).append(',').append(offset + bytes).append("]}");
      offset += bytes;
    }
    h.append('}');
    while ((h.length() + 8) % 8 != 0) {
      h.append(' ');
    }
    byte[] header = h.toString().getBytes(StandardCharsets.UTF_8);
    ByteBuffer out = ByteBuffer.allocate(8 + header.length + (int) offset).order(ByteOrder.LITTLE_ENDIAN);
    out.putLong(header.length).put(header);
    for (Tensor t : sorted.values()) {
      for (float v : t.values()) {
        switch (dtype) {
          case "F32" -> out.putFloat(v);
          case "BF16" -> out.putShort(bf16(v));
          default -> out.putShort(f16(v));
        }
      }
    }
    Files.write(file, out.array());
  }

  /** The values as stored in {@code dtype} and read back. */
  public static float[] rounded(float[] v, String dtype) {
    float[] out = v.clone();
    for (int i = 0; i < out.length; i++) {
      out[i] = switch (dtype) {
        case "F32" -> v[i];
        case "BF16" -> Float.intBitsToFloat((bf16(v[i]) & 0xffff) << 16);
        default -> fromF16(f16(v[i]));
      };
    }
    return out;
  }

  static short bf16(float v) {
    int bits = Float.floatToRawIntBits(v);
    int lsb = (bits >>> 16) & 1;
    return (short) ((bits + 0x7fff + lsb) >>> 16);
  }

  /** binary16 by scaling: exact round-to-nearest-even for finite values in range (no NaN/Inf needed here). */
  static short f16(float v) {
    int sign = v < 0 || (v == 0 && 1 / v < 0) ? 0x8000 : 0;
    double a = Math.abs((double) v);
    if (a < 0x1p-14) { // subnormal: units of 2^-24
      return (short) (sign | (int) Math.rint(a * 0x1p24));
    }
    int e = Math.getExponent(a);
    double m = a / Math.scalb(1.0, e); // [1, 2)
    long mant = Math.round(Math.rint((m - 1) * 1024));
    if (mant == 1024) {
      mant = 0;
      e++;
    }
    return (short) (sign | ((e + 15) << 10) | mant);
  }

  static float fromF16(short h) {
    int bits = h & 0xffff;
    int e = (bits >>> 10) & 0x1f;
    int m = bits & 0x3ff;
    double v = e == 0 ? m * 0x1p-24 : Math.scalb(1 + m / 1024.0, e - 15);
    return (float) ((bits & 0x8000) != 0 ? -v : v);
  }
}
