package dev.pruneserve.cache;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Policy;
import dev.pruneserve.model.LoadObserver;
import dev.pruneserve.model.ModelRegistry;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.jboss.logging.Logger;

/**
 * Which variants ({@code <model>@<id>}) stay loaded: least recently served first out, under a byte
 * budget. Each loaded variant weighs its measured bytes; pinned variants and alias targets weigh 0
 * and are never evicted. The order is Caffeine's access order ({@code expireAfterAccess} with a
 * horizon that never passes), so it is LRU by last request, approximate only under heavy read
 * contention (Caffeine's read buffer is lossy). The budget is enforced here, not by Caffeine's
 * W-TinyLFU size policy, whose admission filter may reject the variant a request just loaded.
 * Eviction unloads the variant through the registry on a background thread (its handle is retired:
 * sessions close after the last lease, never under a running request). A request for an unloaded
 * variant loads it on demand (a counted miss). Base models are not managed. The only package that
 * touches Caffeine.
 */
public final class VariantCache implements LoadObserver {
  private static final Logger LOG = Logger.getLogger(VariantCache.class);
  /** Longer than any server runs: entries never expire; the policy only supplies access order. */
  private static final Duration NEVER = Duration.ofDays(365L * 100);
  private final Cache<String, Long> loaded;
  private final Policy.FixedExpiration<String, Long> accessOrder;
  private final Predicate<String> neverEvict;
  private final boolean onDemand;
  private volatile long budget;
  private final ExecutorService unloader = Executors.newSingleThreadExecutor(dev.pruneserve.concurrent.DaemonThreads
      .named("pruneserve-evict"));
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
    this.budget = budgetBytes;
    this.loaded = Caffeine.newBuilder().expireAfterAccess(NEVER).executor(Runnable::run).build();
    this.accessOrder = loaded.policy().expireAfterAccess().orElseThrow();
    this.hits = Counter.builder("pruneserve_variant_cache_hits_total").description("requests for a loaded variant")
        .register(meters);
    this.misses = Counter.builder("pruneserve_variant_cache_misses_total")
        .description("requests that loaded a variant on demand").register(meters);
    this.evictions = Counter.builder("pruneserve_variant_evicted_total").description("variants unloaded for space")
        .register(meters);
    Gauge.builder("pruneserve_variant_cache_used_bytes", this, VariantCache::usedBytes).register(meters);
    Gauge.builder("pruneserve_variant_cache_capacity_bytes", this, c -> c.budget).register(meters);
    Gauge.builder("pruneserve_variant_lru_age_seconds", this, VariantCache::lruAgeSeconds)
        .description("seconds since the next variant to evict was last served").register(meters);
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
      loaded.put(model, measuredBytes);
      enforceBudget();
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

  /**
   * Applies a change of {@code variant}'s protection (pinned/unpinned, alias target or not): weights
   * are read live from the predicate, so this re-checks the whole budget (a variant that lost its
   * protection may push the others over it).
   */
  public void reweigh(String variant) {
    enforceBudget();
  }

  /** Changes the byte budget at run time; variants beyond it are evicted. */
  public void resize(long budgetBytes) {
    budget = budgetBytes;
    enforceBudget();
  }

  /** Bytes held by loaded variants that count against the budget. */
  public long usedBytes() {
    return loaded.asMap().entrySet().stream().filter(e -> !neverEvict.test(e.getKey()))
        .mapToLong(Map.Entry::getValue).sum();
  }

  public boolean isLoaded(String variant) {
    return loaded.asMap().containsKey(variant); // no access recorded
  }

  /** Waits until queued evictions have unloaded their variants. */
  public void settle() throws Exception {
    unloader.submit(() -> {}).get(60, TimeUnit.SECONDS); // single thread: runs after everything queued
  }

  /** Evicts least recently served unprotected variants until the rest fit the budget. */
  private synchronized void enforceBudget() {
    long used = usedBytes();
    if (used <= budget) {
      return;
    }
    for (String name : accessOrder.oldest(Integer.MAX_VALUE).keySet()) {
      if (used <= budget) {
        break;
      }
      Long bytes = neverEvict.test(name) ? null : loaded.asMap().remove(name);
      if (bytes != null) {
        used -= bytes;
        evicted(name, bytes);
      }
    }
  }

  private double lruAgeSeconds() {
    return accessOrder.oldest(Integer.MAX_VALUE).keySet().stream().filter(n -> !neverEvict.test(n)).findFirst()
        .flatMap(accessOrder::ageOf).map(d -> d.toNanos() / 1e9).orElse(0.0);
  }

  private void evicted(String name, long bytes) {
    evictions.increment();
    LOG.infof("evicting variant %s (%d bytes) to stay within the cache budget of %d bytes", name, bytes, budget);
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
