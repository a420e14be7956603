package dev.pruneserve.llm;

import com.google.protobuf.UnsafeByteOperations;
import dev.pruneserve.onnx.proto.Onnx.TensorProto;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;

/** FP32 initializers from checkpoint arrays, with the layout changes an ONNX MatMul needs. */
final class Weights {
  private Weights() {}

  /** {@code src} as-is with the given dims. */
  static TensorProto plain(String name, FloatBuffer src, long... dims) {
    ByteBuffer b = ByteBuffer.allocate(src.remaining() * 4).order(ByteOrder.LITTLE_ENDIAN);
    b.asFloatBuffer().put(src.duplicate());
    return tensor(name, b.array(), dims);
  }

  /** A checkpoint matrix [out, in] (row-major, from {@code src}'s position) as a MatMul weight [in, out]. */
  static TensorProto transposed(String name, FloatBuffer src, int out, int in) {
    return dev.pruneserve.graph.TransposedWeights.transpose(name, src, out, in);
  }

  /**
   * llama2.c rotates adjacent pairs (2k, 2k+1) of each head; the rotate-half RoPE of exported
   * Llama graphs rotates (k, k + hd/2). Reordering each head's q/k output rows as [0,2,4,…,1,3,5,…]
   * makes the two equal (q·k is unchanged by a permutation applied to both).
   */
  static int[] ropeRowOrder(int heads, int headDim) {
    int[] order = new int[heads * headDim];
    int half = headDim / 2;
    for (int h = 0; h < heads; h++) {
      for (int k = 0; k < half; k++) {
        order[h * headDim + k] = h * headDim + 2 * k;
        order[h * headDim + half + k] = h * headDim + 2 * k + 1;
      }
    }
    return order;
  }

  private static TensorProto tensor(String name, byte[] data, long... dims) {
    TensorProto.Builder t = TensorProto.newBuilder().setName(name).setDataType(1)
        .setRawData(UnsafeByteOperations.unsafeWrap(data));
    for (long d : dims) {
      t.addDims(d);
    }
    return t.build();
  }
}
