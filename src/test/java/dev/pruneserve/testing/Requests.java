package dev.pruneserve.testing;

import com.google.protobuf.ByteString;
import dev.pruneserve.api.inference.ModelInferRequest;
import dev.pruneserve.api.inference.ModelInferResponse;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/** Builders for v2 requests and readers for responses used across gRPC tests. */
public final class Requests {
  private Requests() {}

  /** x[b, i] = 0.01 * (b * width + i). */
  public static float[] ramp(int batch, int width) {
    float[] v = new float[batch * width];
    for (int i = 0; i < v.length; i++) {
      v[i] = 0.01f * i;
    }
    return v;
  }

  public static ByteString rawFp32(float[] values) {
    ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    b.asFloatBuffer().put(values);
    return ByteString.copyFrom(b.array());
  }

  /** A raw FP32 request for a model with one input {@code x[batch, width]}. */
  public static ModelInferRequest.Builder mlp(String model, int batch, int width) {
    return ModelInferRequest.newBuilder().setModelName(model)
        .addInputs(ModelInferRequest.InferInputTensor.newBuilder().setName("x").setDatatype("FP32")
            .addShape(batch).addShape(width))
        .addRawInputContents(rawFp32(ramp(batch, width)));
  }

  public static float[] fp32Output(ModelInferResponse resp, int index) {
    ByteBuffer b = resp.getRawOutputContents(index).asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
    float[] out = new float[b.remaining() / 4];
    b.asFloatBuffer().get(out);
    return out;
  }
}
