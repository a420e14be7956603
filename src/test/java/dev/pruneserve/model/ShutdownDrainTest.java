package dev.pruneserve.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pruneserve.error.ServingException;
import dev.pruneserve.graph.ModelBuilder;
import dev.pruneserve.repository.ModelRepository;
import dev.pruneserve.runtime.OrtRuntime;
import dev.pruneserve.testing.TestModels;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Graceful shutdown's drain: after unloadAll, new requests are refused (UNAVAILABLE), a request in
 * flight keeps its session open, and the drain completes when that request releases it.
 */
class ShutdownDrainTest {
  @TempDir Path root;

  @Test
  void inFlightRequestsFinishBeforeSessionsClose() throws Exception {
    TestModels.write(root, "mlp", 1, ModelBuilder.mlp("mlp", 1, 16, 8, 4));
    ModelRegistry registry = new ModelRegistry(new ModelRepository(root), OrtRuntime.cpu(1), Warmup::run);
    registry.load("mlp");
    Lease inFlight = registry.acquire("mlp", "");
    registry.unloadAll();
    ServingException refused = assertThrows(ServingException.class, () -> registry.acquire("mlp", ""),
        "no new requests after shutdown began");
    assertTrue(refused.getMessage().contains("shutting down"), refused.getMessage());
    assertThrows(ServingException.class, () -> registry.load("mlp"), "no loads after shutdown began");
    assertEquals(1, registry.awaitDrained(Duration.ofMillis(50)), "the in-flight request holds its session");
    CompletableFuture<Integer> drained = CompletableFuture.supplyAsync(() -> {
      try {
        return registry.awaitDrained(Duration.ofSeconds(30));
      } catch (InterruptedException e) {
        throw new IllegalStateException(e);
      }
    });
    inFlight.close();
    assertEquals(0, drained.get(), "drained once the last lease is released");
  }
}
