package dev.pruneserve.grpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import dev.pruneserve.api.inference.GRPCInferenceServiceGrpc;
import dev.pruneserve.api.inference.ModelInferRequest;
import dev.pruneserve.api.inference.ModelInferResponse;
import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.ServerInterceptors;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A client that does not read (its HTTP/2 window is smaller than the response, and it never
 * requests the message) keeps its response counted; a second response beyond the budget is refused
 * with RESOURCE_EXHAUSTED naming the setting; once the first client reads, its bytes are released
 * and the next response is served.
 */
class UnreadResponsesTest {
  static final int MIB = 1 << 20;
  Server server;
  ManagedChannel slow;
  ManagedChannel fast;

  @AfterEach
  void stop() throws InterruptedException {
    for (ManagedChannel c : new ManagedChannel[] {slow, fast}) {
      if (c != null) {
        c.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
      }
    }
    server.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
  }

  @Test
  void unreadResponsesAreBoundedAndReleasedWhenRead() throws Exception {
    UnreadResponses budget = new UnreadResponses(3 * MIB / 2);
    server = NettyServerBuilder.forPort(0).addService(ServerInterceptors.intercept(new OneMib(), budget)).build()
        .start();
    slow = NettyChannelBuilder.forAddress("localhost", server.getPort()).usePlaintext().flowControlWindow(65_535)
        .build();
    fast = NettyChannelBuilder.forAddress("localhost", server.getPort()).usePlaintext()
        .maxInboundMessageSize(4 * MIB).build();

    ClientCall<ModelInferRequest, ModelInferResponse> unread = slow.newCall(
        GRPCInferenceServiceGrpc.getModelInferMethod(), CallOptions.DEFAULT.withMaxInboundMessageSize(4 * MIB));
    CompletableFuture<Status> unreadEnd = new CompletableFuture<>();
    unread.start(new ClientCall.Listener<>() {
      @Override
      public void onClose(Status status, Metadata trailers) {
        unreadEnd.complete(status);
      }
    }, new Metadata());
    unread.sendMessage(ModelInferRequest.getDefaultInstance());
    unread.halfClose(); // no request(1): the message stays unread, the window stays closed
    awaitHeld(budget, true);

    StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
        () -> GRPCInferenceServiceGrpc.newBlockingStub(fast).modelInfer(ModelInferRequest.getDefaultInstance()));
    assertEquals(Status.Code.RESOURCE_EXHAUSTED, e.getStatus().getCode());
    assertTrue(e.getStatus().getDescription().contains(UnreadResponses.SETTING), e.getStatus().getDescription());

    unread.request(1);
    assertEquals(Status.Code.OK, unreadEnd.get(30, TimeUnit.SECONDS).getCode());
    awaitHeld(budget, false);
    ModelInferResponse ok = GRPCInferenceServiceGrpc.newBlockingStub(fast)
        .modelInfer(ModelInferRequest.getDefaultInstance());
    assertEquals(MIB, ok.getRawOutputContents(0).size(), "served once the first client has read");
  }

  /** Waits (not a timing assertion) until the server holds bytes, or until it holds none. */
  private static void awaitHeld(UnreadResponses budget, boolean some) throws InterruptedException {
    for (int i = 0; i < 3000 && (budget.held() > 0) != some; i++) {
      Thread.sleep(10);
    }
    assertEquals(some, budget.held() > 0, "held = " + budget.held());
  }

  /** Answers every ModelInfer with 1 MiB of raw output. */
  static final class OneMib extends GRPCInferenceServiceGrpc.GRPCInferenceServiceImplBase {
    @Override
    public void modelInfer(ModelInferRequest request, StreamObserver<ModelInferResponse> obs) {
      obs.onNext(ModelInferResponse.newBuilder().addRawOutputContents(ByteString.copyFrom(new byte[MIB])).build());
      obs.onCompleted();
    }
  }

  /** With pruneserve.limits.max-connection-age, a connection stuck behind an unread response is closed. */
  @Test
  void aConnectionAgeClosesTheConnectionOfAClientThatNeverReads() throws Exception {
    UnreadResponses budget = new UnreadResponses(64 * MIB);
    NettyServerBuilder b = NettyServerBuilder.forPort(0).addService(ServerInterceptors.intercept(new OneMib(), budget));
    ConnectionAge.apply(java.util.Optional.of(java.time.Duration.ofSeconds(1)), java.time.Duration.ofSeconds(1), b);
    server = b.build().start();
    slow = NettyChannelBuilder.forAddress("localhost", server.getPort()).usePlaintext().flowControlWindow(65_535)
        .build();
    ClientCall<ModelInferRequest, ModelInferResponse> unread = slow.newCall(
        GRPCInferenceServiceGrpc.getModelInferMethod(), CallOptions.DEFAULT.withMaxInboundMessageSize(4 * MIB));
    CompletableFuture<Status> end = new CompletableFuture<>();
    unread.start(new ClientCall.Listener<>() {
      @Override
      public void onClose(Status status, Metadata trailers) {
        end.complete(status);
      }
    }, new Metadata());
    unread.sendMessage(ModelInferRequest.getDefaultInstance());
    unread.halfClose();
    awaitHeld(budget, true);
    awaitHeld(budget, false); // the server closed the connection after age + grace: its call was cancelled
    assertTrue(!end.isDone() || end.get().getCode() != Status.Code.OK, "the unread response was never delivered");
  }
}
