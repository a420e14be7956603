package dev.pruneserve.pruning.cnn;

/**
 * Where one channel group lives in one FP32 initializer: channel {@code c} of the group occupies
 * indices {@code [(offset + c) * multiplicity, (offset + c + 1) * multiplicity)} along {@code axis}.
 *
 * <p>Examples: a producing Conv weight [O, I, kh, kw] is (axis 0, offset 0, multiplicity 1); a
 * consuming Conv reading the group at Concat position 6 is (axis 1, offset 6, multiplicity 1); a
 * Gemm (transB = 1) weight [M, C·H·W] after Flatten is (axis 1, offset, multiplicity H·W).
 */
public record ChannelSlice(String initializer, int axis, int offset, int multiplicity) {
  public ChannelSlice {
    if (axis < 0 || offset < 0 || multiplicity < 1) {
      throw new IllegalArgumentException("bad slice of " + initializer + ": axis " + axis + ", offset " + offset
          + ", multiplicity " + multiplicity);
    }
  }
}
