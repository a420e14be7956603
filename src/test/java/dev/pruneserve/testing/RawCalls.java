package dev.pruneserve.testing;

import io.grpc.MethodDescriptor;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;

/** Method descriptors that send and receive raw bytes, for requests no generated stub can build. */
public final class RawCalls {
  private RawCalls() {}

  public static final MethodDescriptor.Marshaller<byte[]> BYTES = new MethodDescriptor.Marshaller<>() {
    @Override
    public InputStream stream(byte[] value) {
      return new ByteArrayInputStream(value);
    }

    @Override
    public byte[] parse(InputStream stream) {
      try {
        return stream.readAllBytes();
      } catch (IOException e) {
        throw new IllegalStateException(e);
      }
    }
  };

  /** {@code name} ("service/Method") of {@code type}, bytes in and out. */
  public static MethodDescriptor<byte[], byte[]> method(String name, MethodDescriptor.MethodType type) {
    return MethodDescriptor.<byte[], byte[]>newBuilder().setFullMethodName(name).setType(type)
        .setRequestMarshaller(BYTES).setResponseMarshaller(BYTES).build();
  }
}
