package dev.pruneserve.variant;

import dev.pruneserve.error.ServingException;
import dev.pruneserve.model.ModelRegistry;
import dev.pruneserve.repository.ModelNames;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Hot swap: points aliases at models or variants. The target is loaded and warmed before the
 * switch; the switch itself is one atomic map update (compare-and-set when asked), after which new
 * requests resolve to the new target while in-flight requests keep the lease they hold on the old
 * one. A failed load leaves the alias as it was. Thread-safe.
 */
public final class AliasService {
  private final AliasTable table;
  private final ModelRegistry registry;
  private final java.util.function.Consumer<String> targetChanged;

  private final io.micrometer.core.instrument.Timer swaps;
  /** Serialises alias switches with variant deletions: no alias ever points at a deleted variant. */
  private final java.util.concurrent.locks.ReentrantLock lifecycle = new java.util.concurrent.locks.ReentrantLock();

  /** @param targetChanged told of every model that became or stopped being an alias target (cache weights) */
  public AliasService(AliasTable table, ModelRegistry registry, java.util.function.Consumer<String> targetChanged,
      io.micrometer.core.instrument.MeterRegistry meters) {
    this.table = table;
    this.registry = registry;
    this.targetChanged = targetChanged;
    this.swaps = io.micrometer.core.instrument.Timer.builder("pruneserve_alias_swap_seconds")
        .description("SetAlias switches: the atomic switch itself, after the target is loaded")
        .publishPercentiles(0.5, 0.99).register(meters);
  }

  /** Returns the previous target ("" if the alias is new). */
  public String set(String alias, String target, Optional<String> expectedCurrent) {
    requireAliasName(alias);
    ModelNames.requireValid(target);
    if (!registry.repository().contains(target)) {
      throw ServingException.notFound("alias target '" + target + "' is not a model or variant of the repository");
    }
    expectedCurrent.ifPresent(e -> {
      String now = table.target(alias).orElse("");
      if (!e.equals(now)) { // fail fast before a load; set() checks again atomically
        throw ServingException.precondition("alias '" + alias + "' points at '" + now + "', not the expected '" + e
            + "'; read it again and retry");
      }
    });
    if (!registry.isReady(target, "")) {
      registry.load(target); // throws with the reason; the alias is unchanged
    }
    String previous = exclusive(() -> {
      if (!registry.repository().contains(target)) { // deleted while it loaded
        throw ServingException.notFound("alias target '" + target + "' was deleted; the alias is unchanged");
      }
      long t0 = System.nanoTime();
      String p = table.set(alias, target, expectedCurrent);
      swaps.record(System.nanoTime() - t0, java.util.concurrent.TimeUnit.NANOSECONDS);
      return p;
    });
    targetChanged.accept(target);
    if (!previous.isEmpty()) {
      targetChanged.accept(previous);
    }
    return previous;
  }

  /**
   * Runs {@code action} while no alias can switch: a deletion checks {@link #aliasesOf} and deletes
   * inside it. Lock order: this before any lock of the prune jobs.
   */
  public <T> T exclusive(java.util.function.Supplier<T> action) {
    lifecycle.lock();
    try {
      return action.get();
    } finally {
      lifecycle.unlock();
    }
  }

  public Optional<String> get(String alias) {
    return table.target(alias);
  }

  public Map<String, String> list() {
    return table.snapshot();
  }

  public boolean delete(String alias) {
    Optional<String> target = table.target(alias);
    boolean removed = table.remove(alias);
    target.ifPresent(targetChanged);
    return removed;
  }

  public List<String> aliasesOf(String target) {
    return table.snapshot().entrySet().stream().filter(e -> e.getValue().equals(target)).map(Map.Entry::getKey)
        .toList();
  }

  /** An alias is a valid model name that is not a variant name and not a model of the repository. */
  public void requireAliasName(String alias) {
    ModelNames.requireValid(alias);
    if (alias.contains("@")) {
      throw ServingException.invalid("alias '" + alias + "' may not contain '@' (reserved for variants)");
    }
    if (registry.repository().contains(alias)) {
      throw ServingException.invalid("'" + alias + "' is a model of the repository and cannot be an alias");
    }
  }
}
