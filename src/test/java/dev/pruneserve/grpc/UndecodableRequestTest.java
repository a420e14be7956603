package dev.pruneserve.grpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pruneserve.api.inference.ModelInferRequest;
import dev.pruneserve.api.inference.ModelReadyRequest;
import dev.pruneserve.api.inference.ModelStreamInferResponse;
import dev.pruneserve.testing.TestPorts;
import dev.pruneserve.testing.TestRepositoryResource;
import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCalls;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.io.IOException;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Requests whose bytes do not decode (truncated protobuf, garbage, invalid UTF-8 in a string
 * field) get INVALID_ARGUMENT naming the problem on every kind of RPC, never UNKNOWN; in the bidi
 * ModelStreamInfer a bad message gets one error_message and the stream goes on.
 */
@QuarkusTest
@WithTestResource(TestRepositoryResource.class)
class UndecodableRequestTest {
  /** Field 1 (string name) declared 2 bytes long, holding 0xFF 0xFE: not UTF-8. */
  static final byte[] INVALID_UTF8 = {0x0a, 0x02, (byte) 0xff, (byte) 0xfe};
  /** Field 1 declared 100 bytes long, 1 byte present. */
  static final byte[] TRUNCATED = {0x0a, 0x64, 0x41};
  /** A field with wire type 7, which protobuf does not have. */
  static final byte[] GARBAGE = {0x0f, 0x13, 0x37};

  ManagedChannel channel;

  @BeforeEach
  void open() {
    channel = ManagedChannelBuilder.forAddress("localhost", TestPorts.grpc()).usePlaintext().build();
  }

  @AfterEach
  void close() {
    channel.shutdownNow();
  }

  @Test
  void unaryAndServerStreamingCallsAnswerInvalidArgument() {
    List<String> methods = List.of("inference.GRPCInferenceService/ModelReady",
        "inference.GRPCInferenceService/ModelInfer", "pruneserve.v1.Pruning/GetVariant",
        "pruneserve.v1.Embedding/Embed", "pruneserve.v1.Generation/GenerateUnary");
    for (String method : methods) {
      for (byte[] bad : List.of(INVALID_UTF8, TRUNCATED, GARBAGE)) {
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
            () -> ClientCalls.blockingUnaryCall(channel, raw(method, MethodDescriptor.MethodType.UNARY),
                CallOptions.DEFAULT, bad),
            method);
        assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode(), method + ": " + e.getStatus());
        assertTrue(e.getStatus().getDescription().contains("is not a valid"), e.getStatus().getDescription());
      }
    }
    StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> ClientCalls.blockingServerStreamingCall(
        channel, raw("pruneserve.v1.Generation/Generate", MethodDescriptor.MethodType.SERVER_STREAMING),
        CallOptions.DEFAULT, INVALID_UTF8).hasNext());
    assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode());
    assertTrue(e.getStatus().getDescription().contains("UTF-8"), e.getStatus().getDescription());
    byte[] good = ModelReadyRequest.newBuilder().setName("mlp").build().toByteArray();
    assertTrue(ClientCalls.blockingUnaryCall(channel, raw("inference.GRPCInferenceService/ModelReady",
        MethodDescriptor.MethodType.UNARY), CallOptions.DEFAULT, good).length > 0, "the server keeps serving");
  }

  @Test
  void aBadMessageInTheBidiStreamGetsOneErrorMessageAndTheStreamGoesOn() throws Exception {
    ClientCall<byte[], byte[]> call = channel.newCall(raw("inference.GRPCInferenceService/ModelStreamInfer",
        MethodDescriptor.MethodType.BIDI_STREAMING), CallOptions.DEFAULT);
    List<ModelStreamInferResponse> got = new CopyOnWriteArrayList<>();
    CountDownLatch closed = new CountDownLatch(1);
    Status[] end = new Status[1];
    call.start(new ClientCall.Listener<>() {
      @Override
      public void onMessage(byte[] m) {
        try {
          got.add(ModelStreamInferResponse.parseFrom(m));
        } catch (IOException e) {
          throw new IllegalStateException(e);
        }
        call.request(1);
      }

      @Override
      public void onClose(Status status, Metadata trailers) {
        end[0] = status;
        closed.countDown();
      }
    }, new Metadata());
    call.request(1);
    call.sendMessage(TRUNCATED);
    call.sendMessage(ModelInferRequest.newBuilder().setModelName("ghost").build().toByteArray());
    call.halfClose();
    assertTrue(closed.await(60, TimeUnit.SECONDS));
    assertEquals(Status.Code.OK, end[0].getCode(), end[0].toString());
    assertEquals(2, got.size(), "one answer per message");
    assertTrue(got.get(0).getErrorMessage().startsWith("INVALID_ARGUMENT: "), got.get(0).getErrorMessage());
    assertTrue(got.get(1).getErrorMessage().startsWith("NOT_FOUND: "), got.get(1).getErrorMessage());
  }

  private static MethodDescriptor<byte[], byte[]> raw(String name, MethodDescriptor.MethodType type) {
    return dev.pruneserve.testing.RawCalls.method(name, type);
  }
}
