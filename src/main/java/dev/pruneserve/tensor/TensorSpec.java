package dev.pruneserve.tensor;

import java.util.List;

/**
 * Declared input or output of a model: name, element type, shape with {@code -1} for dynamic dims,
 * and per dim its symbolic name ("" when static or unnamed; {@code dimNames} is empty when not
 * known at all). Equal symbolic names across tensors denote the same size.
 */
public record TensorSpec(String name, DataType type, long[] shape, List<String> dimNames) {
  public TensorSpec {
    shape = shape.clone();
    dimNames = List.copyOf(dimNames);
    if (!dimNames.isEmpty() && dimNames.size() != shape.length) {
      throw new IllegalArgumentException("dimNames " + dimNames + " do not match rank " + shape.length);
    }
  }

  public TensorSpec(String name, DataType type, long[] shape) {
    this(name, type, shape, List.of());
  }

  @Override
  public long[] shape() {
    return shape.clone();
  }

  /** Symbolic name of dim {@code i}, or "" when static, unnamed or unknown. */
  public String dimName(int i) {
    return dimNames.isEmpty() ? "" : dimNames.get(i);
  }
}
