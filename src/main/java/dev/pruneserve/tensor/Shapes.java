package dev.pruneserve.tensor;

import java.util.Arrays;

/** Helpers for tensor shapes: {@code long[]} dims, {@code -1} marks a dynamic dimension. */
public final class Shapes {
  private Shapes() {}

  /** Number of elements of a concrete shape; throws {@link ArithmeticException} on overflow. */
  public static long elementCount(long[] shape) {
    long n = 1;
    for (long d : shape) {
      n = Math.multiplyExact(n, d);
    }
    return n;
  }

  /** True when {@code actual} has the rank of {@code spec} and matches every fixed dimension. */
  public static boolean matches(long[] spec, long[] actual) {
    if (spec.length != actual.length) {
      return false;
    }
    for (int i = 0; i < spec.length; i++) {
      if (spec[i] >= 0 && spec[i] != actual[i]) {
        return false;
      }
    }
    return true;
  }

  public static String format(long[] shape) {
    return Arrays.toString(shape);
  }
}
