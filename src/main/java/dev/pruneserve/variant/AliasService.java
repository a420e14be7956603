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
 * one. A failed load leaves the alias as it was. In fleet mode ({@link #joinFleet}) the fleet's table
 * decides and every replica switches on its own after loading the target ({@link FleetAliases}).
 * Thread-safe.
 */
public final class AliasService {
  /**
   * One alias: {@code target} the fleet's (or this server's) target, {@code served} what this
   * replica routes to; revisions are the fleet's (0 on a single server); {@code problem} says why
   * {@code served} differs from {@code target} ("" when it does not).
   */
  public record AliasState(String alias, String target, String served, long revision, long servedRevision,
      String problem) {}

  /** How long SetAlias waits for this replica to follow the fleet's change before answering. */
  private static final java.time.Duration FOLLOW_WAIT = java.time.Duration.ofSeconds(30);
  private final AliasTable table;
  private final ModelRegistry registry;
  private final java.util.function.Consumer<String> targetChanged;
  private volatile FleetAliases fleet; // null: a single server

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

  /**
   * Fleet mode from now on: aliases.json is no longer read or written and alias changes go to the
   * fleet. Call before the server takes requests; {@link #follow} then applies the fleet's table.
   */
  public void joinFleet(Fleet f) {
    fleet = new FleetAliases(f, this, table, registry, targetChanged);
  }

  /**
   * Loads the fleet's table (each target warmed; waiting up to {@code wait} for it) and follows it.
   * Call once, after {@link #joinFleet} and the start-up loading.
   */
  public void follow(java.time.Duration wait) {
    fleet.start(wait);
  }

  /** Shutdown: fleet changes are no longer applied. */
  public void stopFollowing() {
    FleetAliases fa = fleet;
    if (fa != null) {
      fa.stop();
    }
  }

  /** Returns the previous target ("" if the alias is new). */
  public String set(String alias, String target, Optional<String> expectedCurrent) {
    requireAliasName(alias);
    ModelNames.requireValid(target);
    if (!registry.repository().contains(target)) {
      throw ServingException.notFound("alias target '" + target + "' is not a model or variant of the repository");
    }
    FleetAliases fa = fleet;
    if (fa != null) { // loaded here first, so this replica's switch is immediate; the others load on their own
      if (!registry.isReady(target, "")) {
        registry.load(target);
      }
      return fa.set(alias, target, expectedCurrent, FOLLOW_WAIT);
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
    return state(alias).map(AliasState::target);
  }

  /** The alias as the fleet and this replica see it (on a single server both are the table's). */
  public Optional<AliasState> state(String alias) {
    FleetAliases fa = fleet;
    if (fa != null) {
      return fa.state(alias);
    }
    return table.target(alias).map(t -> new AliasState(alias, t, t, 0, 0, ""));
  }

  /** Every alias and its target (in fleet mode the fleet's, including targets this replica could not load). */
  public Map<String, String> list() {
    FleetAliases fa = fleet;
    return fa != null ? fa.list() : table.snapshot();
  }

  public boolean delete(String alias) {
    FleetAliases fa = fleet;
    if (fa != null) {
      return fa.delete(alias, FOLLOW_WAIT);
    }
    Optional<String> target = table.target(alias);
    boolean removed = table.remove(alias);
    target.ifPresent(targetChanged);
    return removed;
  }

  /** Aliases pointing at {@code target}; in fleet mode read from the fleet (UNAVAILABLE when it is away). */
  public List<String> aliasesOf(String target) {
    FleetAliases fa = fleet;
    if (fa != null) {
      return fa.aliasesOf(target);
    }
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
