package dev.pruneserve.grpc;

import com.google.protobuf.ByteString;
import dev.pruneserve.api.inference.InferTensorContents;
import dev.pruneserve.error.ServingException;
import dev.pruneserve.tensor.DataType;
import dev.pruneserve.tensor.Shapes;
import dev.pruneserve.tensor.Tensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;

/**
 * Decodes the typed {@code InferTensorContents} fields into little-endian tensor data. The field
 * used is fixed by the datatype (v2 spec); FP16 and BF16 have no typed field and must be raw.
 */
final class TypedContents {
  private TypedContents() {}

  static Tensor decode(String name, DataType type, long[] shape, InferTensorContents c) {
    if (c == null) {
      throw ServingException.invalid("input '" + name + "' has no data: set its contents or use raw_input_contents");
    }
    long count = Shapes.elementCount(shape);
    int given = fieldCount(type, c);
    if (type != DataType.FP16 && type != DataType.BF16) {
      check(name, fieldName(type), given, count, shape);
    } else if (count > 0) {
      throw ServingException.invalid("input '" + name + "': " + type.wireName()
          + " has no typed contents field; send it in raw_input_contents");
    }
    int n = (int) count; // == given, bounded by the message size
    if (type == DataType.BYTES) {
      return Tensor.bytes(name, shape, c.getBytesContentsList().stream().map(ByteString::toByteArray).toList());
    }
    ByteBuffer b = ByteBuffer.allocate(n * type.byteSize()).order(ByteOrder.LITTLE_ENDIAN);
    switch (type) {
      case BOOL -> {
        c.getBoolContentsList().forEach(v -> b.put((byte) (v ? 1 : 0)));
      }
      case INT8, INT16, INT32 -> {
        putInts(b, type, c.getIntContentsList());
      }
      case UINT8, UINT16, UINT32 -> {
        putInts(b, type, c.getUintContentsList());
      }
      case INT64 -> {
        c.getInt64ContentsList().forEach(b::putLong);
      }
      case UINT64 -> {
        c.getUint64ContentsList().forEach(b::putLong);
      }
      case FP32 -> {
        c.getFp32ContentsList().forEach(b::putFloat);
      }
      case FP64 -> {
        c.getFp64ContentsList().forEach(b::putDouble);
      }
      case FP16, BF16 -> {} // zero elements (checked above)
      default -> throw new IllegalStateException(type.toString());
    }
    b.flip();
    return Tensor.fixed(name, type, shape, b);
  }

  private static void putInts(ByteBuffer b, DataType type, List<Integer> values) {
    for (int v : values) {
      switch (type.byteSize()) {
        case 1 -> b.put((byte) v);
        case 2 -> b.putShort((short) v);
        default -> b.putInt(v);
      }
    }
  }

  private static int fieldCount(DataType type, InferTensorContents c) {
    return switch (type) {
      case BOOL -> c.getBoolContentsCount();
      case INT8, INT16, INT32 -> c.getIntContentsCount();
      case UINT8, UINT16, UINT32 -> c.getUintContentsCount();
      case INT64 -> c.getInt64ContentsCount();
      case UINT64 -> c.getUint64ContentsCount();
      case FP32 -> c.getFp32ContentsCount();
      case FP64 -> c.getFp64ContentsCount();
      case BYTES -> c.getBytesContentsCount();
      case FP16, BF16 -> 0;
    };
  }

  private static String fieldName(DataType type) {
    return switch (type) {
      case BOOL -> "bool_contents";
      case INT8, INT16, INT32 -> "int_contents";
      case UINT8, UINT16, UINT32 -> "uint_contents";
      case INT64 -> "int64_contents";
      case UINT64 -> "uint64_contents";
      case FP32 -> "fp32_contents";
      case FP64 -> "fp64_contents";
      case BYTES -> "bytes_contents";
      case FP16, BF16 -> "";
    };
  }

  private static void check(String name, String field, int got, long expected, long[] shape) {
    if (got != expected) {
      throw ServingException.invalid("input '" + name + "': " + field + " has " + got + " values, expected "
          + expected + " for shape " + Shapes.format(shape));
    }
  }
}
