package dev.pruneserve.cache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pruneserve.graph.ModelBuilder;
import dev.pruneserve.model.Lease;
import dev.pruneserve.model.ModelRegistry;
import dev.pruneserve.model.Warmup;
import dev.pruneserve.repository.ModelRepository;
import dev.pruneserve.runtime.OrtRuntime;
import dev.pruneserve.tensor.Tensor;
import dev.pruneserve.testing.TestModels;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The variant cache over a real registry and ONNX Runtime sessions: loaded variants stay within the
 * byte budget; a protected (pinned / alias-target) variant is never evicted; an evicted variant
 * reloads on the next request (a counted miss); a request holding a lease on an evicted variant
 * finishes on it, also when its own on-demand load made the cache evict it; base models are not
 * managed. The LRU order itself is checked on the cache alone, with exact weights.
 */
class VariantCacheTest {
  @TempDir Path root;

  @Test
  void evictsWithinBudgetProtectsPinsAndReloadsOnDemand() throws Exception {
    List<String> variants = List.of("mlp@a", "mlp@b", "mlp@c");
    TestModels.write(root, "mlp", 1, ModelBuilder.mlp("mlp", 1, 16, 64, 4));
    for (String v : variants) {
      TestModels.write(root, v, 1, ModelBuilder.mlp(v, 2, 16, 64, 4));
    }
    Set<String> protectedNames = ConcurrentHashMap.newKeySet();
    SimpleMeterRegistry meters = new SimpleMeterRegistry();
    VariantCache cache = new VariantCache(Long.MAX_VALUE / 4, true, protectedNames::contains, meters);
    ModelRegistry registry = new ModelRegistry(new ModelRepository(root), OrtRuntime.cpu(1), Warmup::run);
    cache.attach(registry);
    registry.load("mlp");
    variants.forEach(registry::load);
    long all = cache.usedBytes();
    assertTrue(all > 0);
    variants.forEach(v -> assertTrue(cache.isLoaded(v), v));

    // shrink to two thirds: at least one variant goes, what stays fits
    cache.resize(all * 2 / 3);
    cache.settle();
    assertTrue(cache.usedBytes() <= all * 2 / 3, cache.usedBytes() + " > budget");
    List<String> gone = variants.stream().filter(v -> !registry.isReady(v, "")).toList();
    assertFalse(gone.isEmpty());
    String evicted = gone.get(0);
    assertTrue(registry.isReady("mlp", ""), "base models are not managed");
    assertEquals(gone.size(), meters.get("pruneserve_variant_evicted_total").counter().count(), 0.0);

    // the next request loads it again (a miss) and runs; room for it, so it stays
    cache.resize(Long.MAX_VALUE / 4);
    try (Lease l = registry.acquire(evicted, "")) {
      assertEquals(4, run(l).length);
    }
    assertEquals(1.0, meters.get("pruneserve_variant_cache_misses_total").counter().count(), 0.0);
    assertTrue(registry.isReady(evicted, ""));

    // a protected variant survives a budget of one byte; the others go
    protectedNames.add("mlp@a");
    cache.reweigh("mlp@a");
    if (!cache.isLoaded("mlp@a")) {
      registry.acquire("mlp@a", "").close();
      cache.reweigh("mlp@a");
    }
    try (Lease held = registry.acquire("mlp@b", "")) {
      cache.resize(1);
      cache.settle();
      assertTrue(registry.isReady("mlp@a", ""), "pinned variant stays loaded");
      assertFalse(registry.isReady("mlp@b", ""), "unpinned variant evicted");
      assertEquals(4, run(held).length, "the in-flight request finishes on the evicted variant's session");
    }
    assertFalse(registry.isReady("mlp@c", ""));

    // a variant loaded on demand that alone exceeds the budget still serves the request that loaded it
    try (Lease l = registry.acquire("mlp@c", "")) {
      cache.settle();
      assertFalse(cache.isLoaded("mlp@c"), "evicted as soon as it was loaded");
      assertEquals(4, run(l).length);
    }
    registry.unloadAll();
  }

  @Test
  void evictsLeastRecentlyServedFirstAndKeepsWhatWasJustLoaded() throws Exception {
    Set<String> pinned = ConcurrentHashMap.newKeySet();
    SimpleMeterRegistry meters = new SimpleMeterRegistry();
    VariantCache cache = new VariantCache(250, true, pinned::contains, meters); // no registry: only the policy
    cache.loaded("m@a", 100);
    cache.loaded("m@b", 100);
    cache.served("m@a");
    cache.loaded("m@c", 100); // 300 > 250: b was served longest ago
    assertLoaded(cache, "m@a", "m@c");
    assertEquals(200, cache.usedBytes());

    cache.served("m@a");
    cache.loaded("m@b", 200); // 400: c, then a go; the variant just loaded stays
    assertLoaded(cache, "m@b");

    pinned.add("m@b");
    cache.reweigh("m@b");
    cache.loaded("m@a", 100);
    assertEquals(100, cache.usedBytes(), "a pinned variant does not count");
    cache.resize(50); // a goes; b is pinned
    assertLoaded(cache, "m@b");
    pinned.remove("m@b");
    cache.reweigh("m@b"); // unpinned: 200 > 50
    assertLoaded(cache);
    assertEquals(5.0, meters.get("pruneserve_variant_evicted_total").counter().count(), 0.0);
    cache.served("m@z"); // not loaded: not a hit
    assertEquals(2.0, meters.get("pruneserve_variant_cache_hits_total").counter().count(), 0.0);
  }

  private static void assertLoaded(VariantCache cache, String... expected) {
    List<String> all = List.of("m@a", "m@b", "m@c");
    assertEquals(Set.of(expected), Set.copyOf(all.stream().filter(cache::isLoaded).toList()));
  }

  private static float[] run(Lease l) {
    Tensor x = Tensor.fp32("x", new long[] {1, 16}, new float[16]);
    return l.session().run(Map.of("x", x), Set.of("y")).get("y").toFloatArray();
  }
}
