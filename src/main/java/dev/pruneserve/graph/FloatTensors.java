package dev.pruneserve.graph;

import com.google.protobuf.UnsafeByteOperations;
import dev.pruneserve.onnx.proto.Onnx.TensorProto;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;

/**
 * Floating-point tensors in any of the storage forms models use — FP32, FP16 or BF16, in {@code
 * raw_data} or typed fields — read as FP32 and written back in their own type. Conversions are
 * exact widening and round-to-nearest-even narrowing. Stateless.
 */
public final class FloatTensors {
  public static final int FLOAT = 1;
  public static final int FLOAT16 = 10;
  public static final int BFLOAT16 = 16;

  private FloatTensors() {}

  /** FP32, FP16 or BF16. */
  public static boolean isFloat(int dataType) {
    return dataType == FLOAT || dataType == FLOAT16 || dataType == BFLOAT16;
  }

  /** The tensor's values as FP32: a read-only view for FP32 raw data, else a decoded copy. */
  public static FloatBuffer values(TensorProto t) {
    if (t.getDataType() == FLOAT && t.hasRawData()) {
      return t.getRawData().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
    }
    if (t.getDataType() == FLOAT) {
      float[] v = new float[t.getFloatDataCount()];
      for (int i = 0; i < v.length; i++) {
        v[i] = t.getFloatData(i);
      }
      return FloatBuffer.wrap(v);
    }
    if (t.getDataType() != FLOAT16 && t.getDataType() != BFLOAT16) {
      throw new IllegalArgumentException("tensor '" + t.getName() + "' has data type " + t.getDataType()
          + ", not FP32, FP16 or BF16");
    }
    boolean bf = t.getDataType() == BFLOAT16;
    float[] v;
    if (t.hasRawData()) {
      ByteBuffer b = t.getRawData().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
      v = new float[b.remaining() / 2];
      for (int i = 0; i < v.length; i++) {
        short h = b.getShort(2 * i);
        v[i] = bf ? bf16ToFloat(h) : halfToFloat(h);
      }
    } else { // FP16/BF16 in int32_data, one value per entry (the ONNX spec's typed form)
      v = new float[t.getInt32DataCount()];
      for (int i = 0; i < v.length; i++) {
        short h = (short) t.getInt32Data(i);
        v[i] = bf ? bf16ToFloat(h) : halfToFloat(h);
      }
    }
    return FloatBuffer.wrap(v);
  }

  /** {@code values} encoded as raw data of {@code dataType} (FP32, FP16 or BF16). */
  public static com.google.protobuf.ByteString encode(float[] values, int dataType) {
    int size = dataType == FLOAT ? 4 : 2;
    ByteBuffer b = ByteBuffer.allocate(values.length * size).order(ByteOrder.LITTLE_ENDIAN);
    for (float v : values) {
      switch (dataType) {
        case FLOAT -> b.putFloat(v);
        case FLOAT16 -> b.putShort(floatToHalf(v));
        case BFLOAT16 -> b.putShort(floatToBf16(v));
        default -> throw new IllegalArgumentException("data type " + dataType + " is not FP32, FP16 or BF16");
      }
    }
    return UnsafeByteOperations.unsafeWrap(b.array());
  }

  /** A 1-D or N-D tensor of {@code dataType} holding {@code values}. */
  public static TensorProto tensor(String name, int dataType, float[] values, long... dims) {
    TensorProto.Builder t = TensorProto.newBuilder().setName(name).setDataType(dataType).setRawData(encode(values,
        dataType));
    for (long d : dims) {
      t.addDims(d);
    }
    return t.build();
  }

  /** IEEE 754 binary16 → binary32, exact (subnormals, infinities and NaN included). */
  public static float halfToFloat(short h) {
    int bits = h & 0xffff;
    int sign = (bits & 0x8000) << 16;
    int exp = (bits >>> 10) & 0x1f;
    int mant = bits & 0x3ff;
    if (exp == 0x1f) {
      return Float.intBitsToFloat(sign | 0x7f800000 | (mant << 13));
    }
    if (exp == 0) {
      float v = mant * 0x1p-24f;
      return sign == 0 ? v : -v;
    }
    return Float.intBitsToFloat(sign | ((exp + 112) << 23) | (mant << 13));
  }

  /** binary32 → binary16, round to nearest even; overflow → infinity, NaN stays NaN. */
  public static short floatToHalf(float f) {
    int bits = Float.floatToRawIntBits(f);
    int sign = (bits >>> 16) & 0x8000;
    int abs = bits & 0x7fffffff;
    if (abs >= 0x7f800000) { // inf or NaN
      return (short) (sign | 0x7c00 | (abs > 0x7f800000 ? 0x200 : 0));
    }
    if (abs >= 0x477ff000) { // rounds to ≥ 65520: infinity
      return (short) (sign | 0x7c00);
    }
    if (abs < 0x38800000) { // below the smallest normal half: subnormal or zero
      float a = Float.intBitsToFloat(abs) * 0x1p24f; // in units of 2^-24
      return (short) (sign | Math.round(Math.rint(a)));
    }
    int exp = (abs >>> 23) - 112;
    int mant = abs & 0x7fffff;
    int h = (exp << 10) | (mant >>> 13);
    int rest = mant & 0x1fff;
    if (rest > 0x1000 || (rest == 0x1000 && (h & 1) == 1)) {
      h++;
    }
    return (short) (sign | h);
  }

  public static float bf16ToFloat(short h) {
    return Float.intBitsToFloat((h & 0xffff) << 16);
  }

  /** binary32 → bfloat16, round to nearest even; NaN stays NaN. */
  public static short floatToBf16(float f) {
    int bits = Float.floatToRawIntBits(f);
    if ((bits & 0x7fffffff) > 0x7f800000) {
      return (short) ((bits >>> 16) | 0x40);
    }
    int round = 0x7fff + ((bits >>> 16) & 1);
    return (short) ((bits + round) >>> 16);
  }
}
