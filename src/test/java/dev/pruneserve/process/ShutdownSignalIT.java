package dev.pruneserve.process;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pruneserve.api.inference.GRPCInferenceServiceGrpc;
import dev.pruneserve.api.inference.ModelInferRequest;
import dev.pruneserve.api.inference.ModelReadyRequest;
import dev.pruneserve.api.v1.FinishReason;
import dev.pruneserve.api.v1.GenerateRequest;
import dev.pruneserve.api.v1.GenerateResponse;
import dev.pruneserve.api.v1.GenerationGrpc;
import dev.pruneserve.api.v1.SamplingParams;
import dev.pruneserve.testing.Fixtures;
import dev.pruneserve.testing.PackagedServer;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The packaged server in its own process (the README's start command on a fresh repository), sent a
 * real SIGTERM while it streams a generation: the stream runs to its normal end, requests arriving
 * during the drain are refused with UNAVAILABLE naming the shutdown, and the process exits 0 with no
 * native crash. Before the fix, ONNX Runtime's own shutdown hook released its environment under
 * the running generation and the JVM died with SIGSEGV. Runs in {@code verify} (it needs the jar).
 */
class ShutdownSignalIT {
  @TempDir Path dir;
  private PackagedServer packaged;
  private Process server;

  @Test
  void sigtermDrainsTheStreamingGenerationThenExitsCleanly() throws Exception {
    Fixtures.stories15m(); // the repository's LLM comes from the fixture cache
    packaged = PackagedServer.start(dir, dir.resolve("repo"));
    server = packaged.process();
    ManagedChannel channel = packaged.channel();
    var inference = GRPCInferenceServiceGrpc.newBlockingStub(channel);
    assertTrue(inference.modelReady(ModelReadyRequest.newBuilder().setName("stories15m").build()).getReady());

    List<GenerateResponse> stream = new ArrayList<>();
    CountDownLatch started = new CountDownLatch(3);
    CompletableFuture<Throwable> ended = new CompletableFuture<>();
    GenerationGrpc.newStub(channel).generate(GenerateRequest.newBuilder().setModel("stories15m")
        .setPrompt("Once upon a time").setParams(SamplingParams.newBuilder().setMaxNewTokens(240).setSeed(1)).build(),
        new StreamObserver<>() {
          @Override
          public void onNext(GenerateResponse r) {
            synchronized (stream) {
              stream.add(r);
            }
            started.countDown();
          }

          @Override
          public void onError(Throwable t) {
            ended.complete(t);
          }

          @Override
          public void onCompleted() {
            ended.complete(null);
          }
        });
    assertTrue(started.await(60, TimeUnit.SECONDS), "the generation streams");
    server.destroy(); // SIGTERM

    StatusRuntimeException refused = awaitRefusal(inference);
    assertEquals(Status.Code.UNAVAILABLE, refused.getStatus().getCode());
    assertTrue(refused.getStatus().getDescription().contains("shutting down"), refused.getStatus().toString());

    assertNull(ended.get(120, TimeUnit.SECONDS), "the in-flight stream ends normally");
    GenerateResponse last = stream.get(stream.size() - 1);
    assertTrue(last.hasSummary(), "the stream ends with its summary");
    assertNotEquals(FinishReason.FINISH_REASON_CANCELLED, last.getSummary().getFinishReason());
    assertEquals(stream.size() - 1, last.getSummary().getGeneratedTokens(), "every token arrived");
    assertTrue(server.waitFor(120, TimeUnit.SECONDS), "the server exits after the drain");
    String out = packaged.log();
    assertEquals(0, server.exitValue(), out);
    assertTrue(out.contains("1 session(s) serving a request at the start, all in-flight requests finished"), out);
    assertFalse(out.contains("SIGSEGV") || out.contains("fatal error"), out);
  }

  /** New requests during the drain: the first one refused (the generation keeps the server up). */
  private static StatusRuntimeException awaitRefusal(GRPCInferenceServiceGrpc.GRPCInferenceServiceBlockingStub s) {
    ModelInferRequest req = ModelInferRequest.newBuilder().setModelName("stories15m").build();
    for (int i = 0; i < 10_000; i++) {
      try {
        s.withDeadlineAfter(10, TimeUnit.SECONDS).modelInfer(req);
      } catch (StatusRuntimeException e) {
        if (e.getStatus().getCode() == Status.Code.UNAVAILABLE) {
          return e;
        }
      }
      try {
        Thread.sleep(5);
      } catch (InterruptedException e) {
        throw new AssertionError(e);
      }
    }
    throw new AssertionError("no request was refused after SIGTERM");
  }

  @AfterEach
  void stop() throws InterruptedException {
    if (packaged != null) {
      packaged.close();
    }
  }
}
