package dev.pruneserve.tensor;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import java.util.Objects;

/**
 * A named, concrete tensor exchanged between the API adapters and the runtime.
 *
 * <p>Fixed-width types hold their elements in {@code data}: row-major, little-endian, no padding,
 * exactly {@code elementCount(shape) * type.byteSize()} bytes, position 0. {@link DataType#BYTES}
 * tensors hold one {@code byte[]} per element in {@code strings} and a null {@code data}.
 * Instances are immutable by convention: nobody writes into {@code data} after construction.
 */
public record Tensor(String name, DataType type, long[] shape, ByteBuffer data, List<byte[]> strings) {

  public Tensor {
    Objects.requireNonNull(name);
    Objects.requireNonNull(type);
    shape = shape.clone();
    if (type == DataType.BYTES) {
      Objects.requireNonNull(strings);
      strings = List.copyOf(strings);
      if (strings.size() != Shapes.elementCount(shape)) {
        throw new IllegalArgumentException(
            "tensor '" + name + "': " + strings.size() + " strings for shape " + Shapes.format(shape));
      }
      data = null;
    } else {
      Objects.requireNonNull(data);
      long expected = Shapes.elementCount(shape) * type.byteSize();
      if (data.remaining() != expected) {
        throw new IllegalArgumentException(
            "tensor '" + name + "': " + data.remaining() + " bytes, expected " + expected);
      }
      data = data.slice().order(ByteOrder.LITTLE_ENDIAN);
      strings = null;
    }
  }

  public static Tensor fixed(String name, DataType type, long[] shape, ByteBuffer data) {
    return new Tensor(name, type, shape, data, null);
  }

  public static Tensor bytes(String name, long[] shape, List<byte[]> strings) {
    return new Tensor(name, DataType.BYTES, shape, null, strings);
  }

  public static Tensor fp32(String name, long[] shape, float[] values) {
    ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    b.asFloatBuffer().put(values);
    return fixed(name, DataType.FP32, shape, b);
  }

  public long elementCount() {
    return Shapes.elementCount(shape);
  }

  /** A fresh little-endian view of the data (independent position). */
  public ByteBuffer dataView() {
    return data.duplicate().order(ByteOrder.LITTLE_ENDIAN);
  }

  /** Copies the elements of an FP32 tensor. */
  public float[] toFloatArray() {
    if (type != DataType.FP32) {
      throw new IllegalStateException("tensor '" + name + "' is " + type + ", not FP32");
    }
    float[] out = new float[Math.toIntExact(elementCount())];
    dataView().asFloatBuffer().get(out);
    return out;
  }
}
