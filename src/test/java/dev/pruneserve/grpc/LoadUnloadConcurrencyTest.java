package dev.pruneserve.grpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pruneserve.api.inference.GRPCInferenceServiceGrpc;
import dev.pruneserve.api.inference.RepositoryModelLoadRequest;
import dev.pruneserve.api.inference.RepositoryModelUnloadRequest;
import dev.pruneserve.runtime.OrtRuntime;
import dev.pruneserve.runtime.SessionCounters;
import dev.pruneserve.testing.Requests;
import dev.pruneserve.testing.TestRepositoryResource;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.quarkus.grpc.GrpcClient;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * 8 threads run ModelInfer on {@code churn} in a loop while another thread unloads, loads and
 * reloads it 200 times over gRPC. No JVM crash; every failure is UNAVAILABLE or NOT_FOUND and
 * overlaps an unloaded window; at the end every session opened was closed exactly once.
 */
@QuarkusTest
@WithTestResource(TestRepositoryResource.class)
class LoadUnloadConcurrencyTest {
  private static final int CYCLES = 200;
  private static final int CLIENTS = 8;

  @GrpcClient("inference") GRPCInferenceServiceGrpc.GRPCInferenceServiceBlockingStub stub;

  @Inject OrtRuntime runtime;

  /** Count of unloaded windows begun; {@code unloaded} is true inside one (unload start .. load end). */
  private final AtomicLong windowsBegun = new AtomicLong();
  private volatile boolean unloaded;

  @Test
  void inferenceSurvivesLoadUnloadReload() throws Exception {
    AtomicBoolean stop = new AtomicBoolean();
    AtomicInteger ok = new AtomicInteger();
    ConcurrentLinkedQueue<String> illegal = new ConcurrentLinkedQueue<>();
    AtomicInteger legalFailures = new AtomicInteger();
    ExecutorService pool = Executors.newFixedThreadPool(CLIENTS);
    List<Future<?>> clients = new ArrayList<>();
    for (int c = 0; c < CLIENTS; c++) {
      clients.add(pool.submit(() -> {
        while (!stop.get()) {
          long w0 = windowsBegun.get();
          boolean open0 = unloaded;
          try {
            stub.modelInfer(Requests.mlp("churn", 2, 16).build());
            ok.incrementAndGet();
          } catch (StatusRuntimeException e) {
            Status.Code code = e.getStatus().getCode();
            boolean inWindow = open0 || unloaded || windowsBegun.get() != w0;
            if ((code == Status.Code.UNAVAILABLE || code == Status.Code.NOT_FOUND) && inWindow) {
              legalFailures.incrementAndGet();
            } else {
              illegal.add(e.getStatus().toString());
            }
          }
        }
      }));
    }
    for (int i = 0; i < CYCLES; i++) {
      unloaded = true;
      windowsBegun.incrementAndGet();
      stub.repositoryModelUnload(RepositoryModelUnloadRequest.newBuilder().setModelName("churn").build());
      stub.repositoryModelLoad(RepositoryModelLoadRequest.newBuilder().setModelName("churn").build());
      unloaded = false;
      // reload while READY: must not fail a single request
      stub.repositoryModelLoad(RepositoryModelLoadRequest.newBuilder().setModelName("churn").build());
    }
    stop.set(true);
    for (Future<?> f : clients) {
      f.get(60, TimeUnit.SECONDS);
    }
    pool.shutdown();
    stub.repositoryModelUnload(RepositoryModelUnloadRequest.newBuilder().setModelName("churn").build());

    assertTrue(illegal.isEmpty(), () -> illegal.size() + " illegal failures, e.g. " + illegal.peek());
    assertTrue(ok.get() > CYCLES, "inference made progress: " + ok.get());
    SessionCounters counters = runtime.counters("churn");
    // 1 session at start + 2 per cycle (load + reload), all closed exactly once after the final unload
    assertEquals(1 + 2L * CYCLES, counters.opened());
    assertEquals(counters.opened(), counters.closed());
    assertEquals(counters.closed(), counters.closeCalls(), "a session was closed more than once");
    stub.repositoryModelLoad(RepositoryModelLoadRequest.newBuilder().setModelName("churn").build());
    System.out.printf("load/unload churn: %d ok, %d UNAVAILABLE during unloaded windows%n", ok.get(),
        legalFailures.get());
  }
}
