package dev.pruneserve.tensor;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Concatenation and splitting along dimension 0 (the batch), for the dynamic batcher. Tensors
 * joined must share their type and every other dimension ({@link #key}). Pure; thread-safe.
 */
public final class BatchAxis {
  private BatchAxis() {}

  /** What must match for two tensors to be joined: type and all dimensions but the first. */
  public static String key(Tensor t) {
    long[] shape = t.shape();
    return t.type() + Arrays.toString(Arrays.copyOfRange(shape, Math.min(1, shape.length), shape.length));
  }

  /** {@code parts} (same {@link #key}, at least one dimension) joined along dimension 0. */
  public static Tensor concat(String name, List<Tensor> parts) {
    Tensor first = parts.get(0);
    long[] shape = first.shape().clone();
    shape[0] = parts.stream().mapToLong(p -> p.shape()[0]).sum();
    if (first.type() == DataType.BYTES) {
      List<byte[]> all = new ArrayList<>();
      parts.forEach(p -> all.addAll(p.strings()));
      return Tensor.bytes(name, shape, all);
    }
    int bytes = parts.stream().mapToInt(p -> p.data().remaining()).sum();
    ByteBuffer out = ByteBuffer.allocateDirect(bytes).order(ByteOrder.LITTLE_ENDIAN);
    for (Tensor p : parts) {
      out.put(p.dataView());
    }
    out.flip();
    return Tensor.fixed(name, first.type(), shape, out);
  }

  /** {@code t} cut along dimension 0 into pieces of {@code rows[i]} rows each (summing to dim 0). */
  public static List<Tensor> split(Tensor t, long[] rows) {
    long[] shape = t.shape();
    long per = shape.length == 0 || shape[0] == 0 ? 0 : Shapes.elementCount(shape) / shape[0];
    List<Tensor> out = new ArrayList<>();
    long at = 0;
    for (long r : rows) {
      long[] s = shape.clone();
      s[0] = r;
      if (t.type() == DataType.BYTES) {
        out.add(Tensor.bytes(t.name(), s, t.strings().subList((int) (at * per), (int) ((at + r) * per))));
      } else {
        int size = t.type().byteSize();
        out.add(Tensor.fixed(t.name(), t.type(), s,
            t.dataView().position((int) (at * per * size)).limit((int) ((at + r) * per * size)).slice()));
      }
      at += r;
    }
    return out;
  }
}
