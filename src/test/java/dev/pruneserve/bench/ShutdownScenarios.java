package dev.pruneserve.bench;

import dev.pruneserve.api.inference.GRPCInferenceServiceGrpc;
import dev.pruneserve.api.inference.ModelInferRequest;
import dev.pruneserve.api.inference.RepositoryModelLoadRequest;
import dev.pruneserve.api.inference.RepositoryModelUnloadRequest;
import dev.pruneserve.api.v1.CalibrationSpec;
import dev.pruneserve.api.v1.GenerateRequest;
import dev.pruneserve.api.v1.GenerationGrpc;
import dev.pruneserve.api.v1.PruneRequest;
import dev.pruneserve.api.v1.PruningGrpc;
import dev.pruneserve.api.v1.SamplingParams;
import dev.pruneserve.testing.PackagedServer;
import io.grpc.ClientCall;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.StreamObserver;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * SIGTERM scenarios against the packaged server. Clean = exit status 0 within the drain deadline
 * plus 20 s, no native crash in the log, no temporary file left, and the scenario's own promise
 * (streams end with a status: completed, or CANCELLED for prune jobs; no call answered UNKNOWN).
 */
final class ShutdownScenarios {
  static final int DRAIN_S = 10;
  private final Path dir;
  private final List<String> rows;
  private final List<String> defects;
  private int scenarios;
  private int clean;

  ShutdownScenarios(Path dir, List<String> rows, List<String> defects) {
    this.dir = dir;
    this.rows = rows;
    this.defects = defects;
  }

  void run(boolean llm) throws Exception {
    scenario("idle", false, s -> null);
    scenario("8 clients sending ModelInfer", false, s -> {
      AtomicBoolean stop = new AtomicBoolean();
      List<CompletableFuture<String>> clients = new ArrayList<>();
      for (int c = 0; c < 8; c++) {
        clients.add(CompletableFuture.supplyAsync(() -> {
          var inf = GRPCInferenceServiceGrpc.newBlockingStub(s.channel());
          while (!stop.get()) {
            try {
              inf.modelInfer(ModelInferRequest.newBuilder().setModelName("mlp").addInputs(AttackSuiteBenchTest.X)
                  .addRawInputContents(com.google.protobuf.ByteString.copyFrom(new byte[64])).build());
            } catch (StatusRuntimeException e) {
              stop.set(true);
              return e.getStatus().getCode() == Status.Code.UNAVAILABLE ? null : e.getStatus().toString();
            }
          }
          return null;
        }));
      }
      Thread.sleep(500);
      return () -> {
        stop.set(true);
        for (CompletableFuture<String> f : clients) {
          String bad = f.get(60, TimeUnit.SECONDS);
          if (bad != null) {
            return "a client got " + bad;
          }
        }
        return null;
      };
    });
    scenario("a client that never reads its 1.6 MB response", false, s -> {
      ManagedChannel slow = NettyChannelBuilder.forAddress("localhost", s.grpcPort()).usePlaintext()
          .flowControlWindow(65_535).build();
      ClientCall<ModelInferRequest, dev.pruneserve.api.inference.ModelInferResponse> call = slow.newCall(
          GRPCInferenceServiceGrpc.getModelInferMethod(),
          io.grpc.CallOptions.DEFAULT);
      call.start(new ClientCall.Listener<dev.pruneserve.api.inference.ModelInferResponse>() {}, new Metadata());
      int batch = 100_000;
      call.sendMessage(ModelInferRequest.newBuilder().setModelName("mlp").addInputs(AttackSuiteBenchTest.X.toBuilder()
          .setShape(0, batch)).addRawInputContents(com.google.protobuf.ByteString.copyFrom(new byte[batch * 64]))
          .build());
      call.halfClose();
      Thread.sleep(1000);
      return () -> {
        slow.shutdownNow();
        return null;
      };
    });
    if (llm) {
      scenario("a streaming generation", true, s -> {
        CompletableFuture<Throwable> ended = stream(s, GenerateRequest.newBuilder().setModel("stories15m")
            .setPrompt("Once upon a time").setParams(SamplingParams.newBuilder().setMaxNewTokens(250).setSeed(1))
            .build());
        Thread.sleep(150); // mid-stream: 250 tokens take about a second
        return () -> {
          Throwable t = ended.get(60, TimeUnit.SECONDS);
          return t == null ? null : "the stream ended with " + Status.fromThrowable(t);
        };
      });
      scenario("a prune job self-sampling and pruning", true, s -> {
        CompletableFuture<Status> end = new CompletableFuture<>();
        PruningGrpc.newStub(s.channel()).prune(PruneRequest.newBuilder().setModel("stories15m").setMethod("flap")
            .setRatio(0.3).setCalibration(CalibrationSpec.newBuilder().setSelfSamples(CalibrationSpec.SelfSamples
                .newBuilder().setCount(64).setMaxLength(256)))
            .build(), observer(end));
        Thread.sleep(3000);
        return () -> {
          Status st = end.get(60, TimeUnit.SECONDS);
          return st.getCode() == Status.Code.CANCELLED || st.isOk() ? null : "the prune stream ended " + st;
        };
      });
      scenario("a model loading", true, s -> {
        var inf = GRPCInferenceServiceGrpc.newBlockingStub(s.channel());
        inf.repositoryModelUnload(RepositoryModelUnloadRequest.newBuilder().setModelName("stories15m").build());
        CompletableFuture<String> load = CompletableFuture.supplyAsync(() -> {
          try {
            inf.repositoryModelLoad(RepositoryModelLoadRequest.newBuilder().setModelName("stories15m").build());
            return null;
          } catch (StatusRuntimeException e) {
            Status.Code c = e.getStatus().getCode();
            return c == Status.Code.UNAVAILABLE || c == Status.Code.CANCELLED ? null : e.getStatus().toString();
          }
        });
        Thread.sleep(200);
        return () -> load.get(60, TimeUnit.SECONDS);
      });
    }
    rows.add("SIGTERM scenarios / clean exits: " + scenarios + " / " + clean);
  }

  interface Check {
    /** Returns what went wrong, or null. */
    String after() throws Exception;
  }

  interface Setup {
    /** Starts the scenario's load on {@code s}; returns the check to run after the exit, or null. */
    Check start(PackagedServer s) throws Exception;
  }

  private void scenario(String name, boolean llm, Setup setup) throws Exception {
    scenarios++;
    Path repo = AttackSuiteBenchTest.repository(dir.resolve("term-" + scenarios));
    try (PackagedServer s = PackagedServer.start(dir, repo, "pruneserve.repository.fixtures=" + llm,
        "pruneserve.shutdown.drain-timeout=" + DRAIN_S + "s")) {
      Check check = setup.start(s);
      long t0 = System.nanoTime();
      s.process().destroy(); // SIGTERM
      boolean exited = s.process().waitFor(DRAIN_S + 20, TimeUnit.SECONDS);
      double seconds = (System.nanoTime() - t0) / 1e9;
      List<String> wrong = new ArrayList<>();
      if (!exited) {
        wrong.add("still running " + (DRAIN_S + 20) + " s after SIGTERM");
      } else if (s.process().exitValue() != 0) {
        wrong.add("exit status " + s.process().exitValue());
      }
      String log = s.log();
      if (log.contains("SIGSEGV") || log.contains("fatal error") || log.contains("SIGFPE")) {
        wrong.add("native crash in the log");
      }
      String problem = check == null ? null : check.after();
      if (problem != null) {
        wrong.add(problem);
      }
      try (var left = Files.list(s.tmp())) {
        List<String> files = left.filter(p -> p.getFileName().toString().contains("pruneserve"))
            .map(p -> p.getFileName().toString()).toList();
        if (!files.isEmpty()) {
          wrong.add("temporary files left: " + files);
        }
      }
      if (wrong.isEmpty()) {
        clean++;
      } else {
        defects.add("SIGTERM with " + name + " (" + String.format("%.1f", seconds) + " s): " + wrong);
      }
      System.out.printf("SIGTERM with %s: exit after %.1f s %s%n", name, seconds, wrong.isEmpty() ? "clean" : wrong);
    }
  }

  private static CompletableFuture<Throwable> stream(PackagedServer s, GenerateRequest r) {
    CompletableFuture<Throwable> ended = new CompletableFuture<>();
    GenerationGrpc.newStub(s.channel()).generate(r, new StreamObserver<>() {
      public void onNext(dev.pruneserve.api.v1.GenerateResponse v) {}

      public void onError(Throwable t) {
        ended.complete(t);
      }

      public void onCompleted() {
        ended.complete(null);
      }
    });
    return ended;
  }

  private static <T> StreamObserver<T> observer(CompletableFuture<Status> end) {
    return new StreamObserver<>() {
      public void onNext(T v) {}

      public void onError(Throwable t) {
        end.complete(Status.fromThrowable(t));
      }

      public void onCompleted() {
        end.complete(Status.OK);
      }
    };
  }
}
