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
    int n = Math.toIntExact(Shapes.elementCount(shape));
    if (type == DataType.BYTES) {
      check(name, "bytes_contents", c.getBytesContentsCount(), n, shape);
      return Tensor.bytes(name, shape, c.getBytesContentsList().stream().map(ByteString::toByteArray).toList());
    }
    ByteBuffer b = ByteBuffer.allocate(n * type.byteSize()).order(ByteOrder.LITTLE_ENDIAN);
    switch (type) {
      case BOOL -> {
        check(name, "bool_contents", c.getBoolContentsCount(), n, shape);
        c.getBoolContentsList().forEach(v -> b.put((byte) (v ? 1 : 0)));
      }
      case INT8, INT16, INT32 -> {
        check(name, "int_contents", c.getIntContentsCount(), n, shape);
        putInts(b, type, c.getIntContentsList());
      }
      case UINT8, UINT16, UINT32 -> {
        check(name, "uint_contents", c.getUintContentsCount(), n, shape);
        putInts(b, type, c.getUintContentsList());
      }
      case INT64 -> {
        check(name, "int64_contents", c.getInt64ContentsCount(), n, shape);
        c.getInt64ContentsList().forEach(b::putLong);
      }
      case UINT64 -> {
        check(name, "uint64_contents", c.getUint64ContentsCount(), n, shape);
        c.getUint64ContentsList().forEach(b::putLong);
      }
      case FP32 -> {
        check(name, "fp32_contents", c.getFp32ContentsCount(), n, shape);
        c.getFp32ContentsList().forEach(b::putFloat);
      }
      case FP64 -> {
        check(name, "fp64_contents", c.getFp64ContentsCount(), n, shape);
        c.getFp64ContentsList().forEach(b::putDouble);
      }
      case FP16, BF16 -> {
        if (n > 0) {
          throw ServingException.invalid("input '" + name + "': " + type.wireName()
              + " has no typed contents field; send it in raw_input_contents");
        }
      }
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

  private static void check(String name, String field, int got, int expected, long[] shape) {
    if (got != expected) {
      throw ServingException.invalid("input '" + name + "': " + field + " has " + got + " values, expected "
          + expected + " for shape " + Shapes.format(shape));
    }
  }
}
