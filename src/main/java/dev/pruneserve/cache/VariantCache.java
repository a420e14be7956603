package dev.pruneserve.cache;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.RemovalCause;
import dev.pruneserve.model.LoadObserver;
import dev.pruneserve.model.ModelRegistry;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.jboss.logging.Logger;

/**
 * Which variants ({@code <model>@<id>}) stay loaded: a Caffeine cache of loaded variants weighted by
 * their measured bytes under a byte budget, least recently served evicted first. Pinned variants
 * and alias targets weigh 0, which Caffeine never evicts for size. Eviction unloads the variant
 * through the registry on a background thread (its handle is retired: sessions close after the
 * last lease, never under a running request). A request for an unloaded variant loads it on demand
 * (a counted miss). Base models are not managed. The only package that touches Caffeine.
 */
public final class VariantCache implements LoadObserver {
  private static final Logger LOG = Logger.getLogger(VariantCache.class);
  private final Cache<String, Long> loaded;
  private final Map<String, Long> bytes = new ConcurrentHashMap<>();
  private final Predicate<String> neverEvict;
  private final boolean onDemand;
  private final ExecutorService unloader = Executors.newSingleThreadExecutor(r -> {
    Thread t = new Thread(r, "pruneserve-evict");
    t.setDaemon(true);
    return t;
  });
  private final Counter hits;
  private final Counter misses;
  private final Counter evictions;
  private volatile ModelRegistry registry;

  /**
   * @param budgetBytes the most bytes unpinned, non-alias-target variants may hold loaded
   * @param neverEvict pinned variants and alias targets; call {@link #reweigh} when it changes
   */
  public VariantCache(long budgetBytes, boolean loadOnDemand, Predicate<String> neverEvict, MeterRegistry meters) {
    this.onDemand = loadOnDemand;
    this.neverEvict = neverEvict;
    this.loaded = Caffeine.newBuilder().maximumWeight(budgetBytes)
        .weigher((String name, Long b) -> neverEvict.test(name) ? 0 : (int) Math.min(Integer.MAX_VALUE, b))
        .executor(Runnable::run)
        .removalListener((String name, Long b, RemovalCause cause) -> {
          if (cause.wasEvicted()) {
            evicted(name);
          }
        })
        .build();
    this.hits = Counter.builder("pruneserve_variant_cache_hits_total").description("requests for a loaded variant")
        .register(meters);
    this.misses = Counter.builder("pruneserve_variant_cache_misses_total")
        .description("requests that loaded a variant on demand").register(meters);
    this.evictions = Counter.builder("pruneserve_variant_evicted_total").description("variants unloaded for space")
        .register(meters);
    Gauge.builder("pruneserve_variant_cache_used_bytes", this, VariantCache::usedBytes).register(meters);
    Gauge.builder("pruneserve_variant_cache_capacity_bytes", this,
        c -> c.loaded.policy().eviction().map(e -> (double) e.getMaximum()).orElse(0.0)).register(meters);
  }

  /** Starts observing {@code r}; evictions unload through it. */
  public void attach(ModelRegistry r) {
    this.registry = r;
    r.observe(this);
  }

  @Override
  public void served(String model) {
    if (isVariant(model) && loaded.getIfPresent(model) != null) { // also marks it recently used
      hits.increment();
    }
  }

  @Override
  public void loaded(String model, long measuredBytes) {
    if (isVariant(model)) {
      bytes.put(model, measuredBytes);
      loaded.put(model, measuredBytes);
    }
  }

  @Override
  public void unloaded(String model) {
    loaded.invalidate(model);
  }

  @Override
  public boolean loadOnDemand(String model) {
    if (onDemand && isVariant(model)) {
      misses.increment();
      return true;
    }
    return false;
  }

  /** Re-computes a loaded variant's weight (after it was pinned/unpinned or became/stopped being an alias target). */
  public void reweigh(String variant) {
    Long b = loaded.getIfPresent(variant);
    if (b != null) {
      loaded.put(variant, b);
    }
  }

  /** Changes the byte budget at run time; variants beyond it are evicted. */
  public void resize(long budgetBytes) {
    loaded.policy().eviction().ifPresent(e -> e.setMaximum(budgetBytes));
  }

  /** Bytes held by loaded variants that count against the budget. */
  public long usedBytes() {
    return loaded.policy().eviction().map(e -> e.weightedSize().orElse(0L)).orElse(0L);
  }

  public boolean isLoaded(String variant) {
    return loaded.getIfPresent(variant) != null;
  }

  /** Runs pending maintenance and waits until queued evictions have unloaded their variants. */
  public void settle() throws Exception {
    loaded.cleanUp();
    unloader.submit(() -> { }).get(60, TimeUnit.SECONDS); // single thread: runs after everything queued
  }

  private void evicted(String name) {
    evictions.increment();
    LOG.infof("evicting variant %s (%d bytes) to stay within the cache budget", name, bytes.getOrDefault(name, 0L));
    unloader.execute(() -> {
      ModelRegistry r = registry;
      if (r != null) {
        r.unload(name); // retires the handle: sessions close after in-flight requests release them
      }
    });
  }

  private static boolean isVariant(String name) {
    return name.contains("@");
  }
}
