package dev.pruneserve.tensor;

import dev.pruneserve.error.ServingException;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/**
 * The v2 protocol's raw tensor bytes, shared by gRPC's {@code raw_input_contents} and the REST
 * binary-data extension: fixed-size types as little-endian elements, BYTES as a 4-byte
 * little-endian length before each element. Failures are INVALID_ARGUMENT naming the input.
 * Stateless.
 */
public final class RawTensors {
  private RawTensors() {}

  /** A tensor from its raw bytes ({@code blob} is read from its position to its limit, not copied). */
  public static Tensor decode(String name, DataType type, long[] shape, ByteBuffer blob) {
    long n = Shapes.elementCount(shape);
    if (type == DataType.BYTES) {
      return Tensor.bytes(name, shape, decodeStrings(name, n, blob));
    }
    long expected;
    try {
      expected = Math.multiplyExact(n, (long) type.byteSize());
    } catch (ArithmeticException e) {
      throw ServingException.invalid("input '" + name + "': shape " + Shapes.format(shape) + " is too large");
    }
    if (blob.remaining() != expected) {
      throw ServingException.invalid("input '" + name + "': raw content has " + blob.remaining() + " bytes, expected "
          + expected + " (" + n + " x " + type.wireName() + " for shape " + Shapes.format(shape) + ")");
    }
    return Tensor.fixed(name, type, shape, blob);
  }

  /** BYTES elements as length-prefixed bytes. */
  public static byte[] encodeStrings(List<byte[]> strings) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteBuffer len = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN);
    for (byte[] s : strings) {
      len.clear();
      len.putInt(s.length);
      out.write(len.array(), 0, 4);
      out.write(s, 0, s.length);
    }
    return out.toByteArray();
  }

  private static List<byte[]> decodeStrings(String name, long count, ByteBuffer blob) {
    ByteBuffer b = blob.duplicate().order(ByteOrder.LITTLE_ENDIAN);
    List<byte[]> out = new ArrayList<>();
    while (b.remaining() >= 4) {
      long len = Integer.toUnsignedLong(b.getInt());
      if (len > b.remaining()) {
        throw ServingException.invalid("input '" + name + "': BYTES element " + out.size() + " declares "
            + len + " bytes but only " + b.remaining() + " remain");
      }
      byte[] e = new byte[(int) len];
      b.get(e);
      out.add(e);
    }
    if (b.hasRemaining() || out.size() != count) {
      throw ServingException.invalid("input '" + name + "': raw BYTES content holds " + out.size()
          + " elements (+" + b.remaining() + " stray bytes), expected " + count);
    }
    return out;
  }
}
