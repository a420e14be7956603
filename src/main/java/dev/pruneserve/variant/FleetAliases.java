package dev.pruneserve.variant;

import dev.pruneserve.error.ServingException;
import dev.pruneserve.model.ModelRegistry;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import org.jboss.logging.Logger;

/**
 * Fleet mode of {@link AliasService}: the fleet's alias table is the truth, this replica's
 * {@link AliasTable} (in memory) what it routes by. Each fleet change is applied on the fleet's
 * follower thread, in revision order: the target is loaded and warmed first, then routing switches
 * (in-flight requests keep their leases). A target that cannot be loaded leaves the replica on the
 * previous one, with the reason in {@link AliasService.AliasState#problem}. Thread-safe.
 */
final class FleetAliases {
  private static final Logger LOG = Logger.getLogger(FleetAliases.class);

  /** What this replica knows of one alias: the fleet's target and revision, and what it serves. */
  private record Known(String target, long revision, long servedRevision, String problem) {}

  private final Fleet fleet;
  private final AliasService owner;
  private final AliasTable table;
  private final ModelRegistry registry;
  private final Consumer<String> targetChanged;
  private final Map<String, Known> known = new ConcurrentHashMap<>();
  private final Object applied = new Object();
  private volatile boolean stopped;

  FleetAliases(Fleet fleet, AliasService owner, AliasTable table, ModelRegistry registry,
      Consumer<String> targetChanged) {
    this.fleet = fleet;
    this.owner = owner;
    this.table = table;
    this.registry = registry;
    this.targetChanged = targetChanged;
  }

  /** Follows the fleet; waits up to {@code wait} for its table to be applied (each target loaded). */
  void start(Duration wait) {
    java.util.concurrent.CountDownLatch read = new java.util.concurrent.CountDownLatch(1);
    fleet.followAliases(this::apply, read::countDown);
    try {
      if (!read.await(wait.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS)) {
        LOG.warnf("the fleet's aliases are not read yet (etcd unreachable?); this replica starts without them and"
            + " applies them when etcd answers");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** The fleet's compare-and-set, then waits (up to {@code wait}) until this replica follows it. */
  String set(String alias, String target, Optional<String> expected, Duration wait) {
    Fleet.Change c = fleet.setAlias(alias, target, expected);
    await(alias, c.revision(), wait);
    return c.previous();
  }

  boolean delete(String alias, Duration wait) {
    Optional<Fleet.Change> c = fleet.deleteAlias(alias);
    c.ifPresent(ch -> await(alias, ch.revision(), wait));
    return c.isPresent();
  }

  Optional<AliasService.AliasState> state(String alias) {
    Known k = known.get(alias);
    if (k == null || k.target().isEmpty()) {
      return Optional.empty();
    }
    return Optional.of(new AliasService.AliasState(alias, k.target(), table.target(alias).orElse(""), k.revision(),
        k.servedRevision(), k.problem()));
  }

  /** The aliases this replica knows of (the fleet's targets, including those it could not load). */
  Map<String, String> list() {
    Map<String, String> out = new java.util.TreeMap<>();
    known.forEach((a, k) -> {
      if (!k.target().isEmpty()) {
        out.put(a, k.target());
      }
    });
    return out;
  }

  /** The fleet's aliases that point at {@code target}, read from etcd (a deletion must not race another replica's table). */
  java.util.List<String> aliasesOf(String target) {
    return fleet.aliases().aliases().stream().filter(r -> r.target().equals(target)).map(Fleet.AliasRecord::alias)
        .toList();
  }

  /** Shutdown: fleet changes are no longer applied (models are being unloaded). */
  void stop() {
    stopped = true;
  }

  /** Applies one fleet change here; false when it could not (the follower offers it again). */
  private boolean apply(Fleet.AliasRecord r) {
    if (stopped) {
      return true;
    }
    String before = table.target(r.alias()).orElse("");
    boolean ok = true;
    try {
      if (r.target().isEmpty()) {
        owner.exclusive(() -> table.remove(r.alias()));
        known.put(r.alias(), new Known("", r.revision(), r.revision(), "")); // kept: awaited revisions
      } else if (!r.target().equals(before)) {
        if (!registry.repository().contains(r.target())) {
          throw ServingException.notFound("'" + r.target() + "' is not in this replica's repository");
        }
        if (!registry.isReady(r.target(), "")) {
          registry.load(r.target()); // loaded and warmed before routing switches
        }
        owner.exclusive(() -> {
          if (!registry.repository().contains(r.target())) { // deleted while it loaded
            throw ServingException.notFound("'" + r.target() + "' was deleted while it loaded");
          }
          return table.set(r.alias(), r.target(), Optional.empty());
        });
        known.put(r.alias(), new Known(r.target(), r.revision(), r.revision(), ""));
        LOG.infof("fleet alias %s -> %s (revision %d)", r.alias(), r.target(), r.revision());
        targetChanged.accept(r.target());
      } else {
        known.put(r.alias(), new Known(r.target(), r.revision(), r.revision(), ""));
      }
      if (!before.isEmpty() && !before.equals(r.target())) {
        targetChanged.accept(before);
      }
    } catch (RuntimeException e) { // a ServingException with its reason, or anything a load threw
      Known k = known.get(r.alias());
      String why = "cannot serve '" + r.target() + "': " + e.getMessage() + (before.isEmpty() ? ""
          : "; still serving '" + before + "'") + " (retried every few seconds)";
      LOG.errorf("fleet alias %s (revision %d): %s", r.alias(), r.revision(), why);
      known.put(r.alias(), new Known(r.target(), r.revision(), k == null ? 0 : k.servedRevision(), why));
      ok = false;
    }
    synchronized (applied) {
      applied.notifyAll();
    }
    return ok;
  }

  /** Until this replica has handled {@code revision} of {@code alias} (switched or failed), or {@code wait} passed. */
  private void await(String alias, long revision, Duration wait) {
    long end = System.nanoTime() + wait.toNanos();
    synchronized (applied) {
      while (handled(alias) < revision) {
        long left = end - System.nanoTime();
        if (left <= 0) {
          return; // the fleet agreed; this replica follows when its watch delivers
        }
        try {
          applied.wait(Math.max(1, left / 1_000_000));
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return;
        }
      }
    }
  }

  private long handled(String alias) {
    Known k = known.get(alias);
    return k == null ? 0 : k.revision();
  }
}
