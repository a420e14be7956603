package dev.pruneserve.grpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pruneserve.api.inference.GRPCInferenceServiceGrpc;
import dev.pruneserve.api.inference.ModelInferRequest;
import dev.pruneserve.api.inference.ModelStreamInferResponse;
import dev.pruneserve.testing.Requests;
import dev.pruneserve.testing.TestRepositoryResource;
import io.grpc.stub.StreamObserver;
import io.quarkus.grpc.GrpcClient;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** ModelStreamInfer: one response per request, errors in-band, the stream stays open after one. */
@QuarkusTest
@WithTestResource(TestRepositoryResource.class)
class StreamInferTest {
  @GrpcClient("inference") io.grpc.Channel channel;

  @Test
  void answersEachRequestWithInBandErrors() throws Exception {
    List<ModelStreamInferResponse> got = new CopyOnWriteArrayList<>();
    CompletableFuture<Void> done = new CompletableFuture<>();
    StreamObserver<ModelInferRequest> req = GRPCInferenceServiceGrpc.newStub(channel)
        .modelStreamInfer(new StreamObserver<>() {
          @Override
          public void onNext(ModelStreamInferResponse r) {
            got.add(r);
          }

          @Override
          public void onError(Throwable t) {
            done.completeExceptionally(t);
          }

          @Override
          public void onCompleted() {
            done.complete(null);
          }
        });
    req.onNext(Requests.mlp("mlp", 1, 16).setId("a").build());
    req.onNext(Requests.mlp("ghost", 1, 16).setId("b").build());
    req.onNext(Requests.mlp("mlp", 2, 16).setId("c").build());
    req.onCompleted();
    done.get(30, TimeUnit.SECONDS);
    assertEquals(3, got.size());
    assertEquals("a", got.get(0).getInferResponse().getId());
    assertTrue(got.get(1).getErrorMessage().contains("NOT_FOUND"), got.get(1).getErrorMessage());
    assertTrue(got.get(1).getErrorMessage().contains("unknown model 'ghost'"));
    assertEquals("c", got.get(2).getInferResponse().getId());
    assertEquals(List.of(2L, 4L), got.get(2).getInferResponse().getOutputs(0).getShapeList());
  }
}
