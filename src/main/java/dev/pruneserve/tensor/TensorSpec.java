package dev.pruneserve.tensor;

/** Declared input or output of a model: name, element type, shape with {@code -1} for dynamic dims. */
public record TensorSpec(String name, DataType type, long[] shape) {
  public TensorSpec {
    shape = shape.clone();
  }

  @Override
  public long[] shape() {
    return shape.clone();
  }
}
