package dev.pruneserve.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pruneserve.error.ErrorKind;
import dev.pruneserve.error.ServingException;
import dev.pruneserve.graph.ModelBuilder;
import dev.pruneserve.repository.ModelRepository;
import dev.pruneserve.runtime.OrtRuntime;
import dev.pruneserve.session.SessionLoader;
import dev.pruneserve.testing.TestModels;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A request for a model that another request is loading on demand waits for that load and is
 * served, instead of failing with "not ready: LOADING"; past the load wait it gets UNAVAILABLE
 * naming the setting; a request arriving while the model is being unloaded (an eviction) waits for
 * the unload and loads it again. Loads and closes are held open by latches, so nothing here depends
 * on timing.
 */
class LoadingWaitTest {
  /** Every model may be loaded on demand (as variants are). */
  static final LoadObserver ON_DEMAND = new LoadObserver() {
    @Override
    public boolean loadOnDemand(String model) {
      return true;
    }
  };

  @TempDir Path root;

  @Test
  void requestsArrivingDuringAnOnDemandLoadWaitForIt() throws Exception {
    TestModels.write(root, "mlp", 1, ModelBuilder.mlp("mlp", 1, 16, 8, 4));
    CountDownLatch loading = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    OrtRuntime ort = OrtRuntime.cpu(1);
    SessionLoader held = (label, file) -> {
      loading.countDown();
      try {
        assertTrue(release.await(60, TimeUnit.SECONDS));
      } catch (InterruptedException e) {
        throw new IllegalStateException(e);
      }
      return ort.load(label, file);
    };
    ModelRegistry registry = new ModelRegistry(new ModelRepository(root), held, Warmup::run);
    registry.observe(ON_DEMAND);
    CompletableFuture<Lease> first = CompletableFuture.supplyAsync(() -> registry.acquire("mlp", ""));
    assertTrue(loading.await(60, TimeUnit.SECONDS), "the first request started the load");
    registry.setLoadWait(Duration.ZERO);
    ServingException e = assertThrows(ServingException.class, () -> registry.acquire("mlp", ""));
    assertEquals(ErrorKind.UNAVAILABLE, e.kind());
    assertTrue(e.getMessage().contains("pruneserve.limits.load-wait"), e.getMessage());
    registry.setLoadWait(Duration.ofSeconds(60));
    CompletableFuture<Lease> second = CompletableFuture.supplyAsync(() -> registry.acquire("mlp", ""));
    release.countDown();
    try (Lease a = first.get(60, TimeUnit.SECONDS); Lease b = second.get(60, TimeUnit.SECONDS)) {
      assertEquals(a.session(), b.session(), "both served by the one load");
    }
  }

  @Test
  void requestsArrivingDuringAnUnloadWaitAndLoadAgain() throws Exception {
    TestModels.write(root, "mlp", 1, ModelBuilder.mlp("mlp", 1, 16, 8, 4));
    CountDownLatch closing = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    OrtRuntime ort = OrtRuntime.cpu(1);
    java.util.concurrent.atomic.AtomicInteger loads = new java.util.concurrent.atomic.AtomicInteger();
    SessionLoader slowClose = (label, file) -> {
      dev.pruneserve.session.ModelSession s = ort.load(label, file);
      if (loads.incrementAndGet() > 1) {
        return s;
      }
      return java.lang.reflect.Proxy.newProxyInstance(getClass().getClassLoader(),
          new Class<?>[] {dev.pruneserve.session.ModelSession.class}, (proxy, m, args) -> {
            if (m.getName().equals("close")) {
              closing.countDown();
              assertTrue(release.await(60, TimeUnit.SECONDS));
            }
            try {
              return m.invoke(s, args);
            } catch (java.lang.reflect.InvocationTargetException e) {
              throw e.getCause();
            }
          }) instanceof dev.pruneserve.session.ModelSession p ? p : s;
    };
    ModelRegistry registry = new ModelRegistry(new ModelRepository(root), slowClose, Warmup::run);
    registry.observe(ON_DEMAND);
    registry.load("mlp");
    CompletableFuture<Void> unload = CompletableFuture.runAsync(() -> registry.unload("mlp"));
    assertTrue(closing.await(60, TimeUnit.SECONDS), "the unload is closing the session");
    CompletableFuture<Lease> during = CompletableFuture.supplyAsync(() -> registry.acquire("mlp", ""));
    while (!during.isDone() && registry.waitingFor("mlp") == 0) {
      Thread.onSpinWait(); // until the request has decided: refused (the bug) or waiting for the unload
    }
    release.countDown();
    unload.get(60, TimeUnit.SECONDS);
    try (Lease l = during.get(60, TimeUnit.SECONDS)) {
      assertEquals(2, loads.get(), "served by a load after the unload");
      assertEquals("mlp", l.model());
    }
  }
}
