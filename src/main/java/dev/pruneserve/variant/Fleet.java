package dev.pruneserve.variant;

import java.util.List;
import java.util.Optional;
import java.util.function.BooleanSupplier;

/**
 * The fleet as the domain sees it: the alias table every replica follows, fleet-wide locks, and the
 * owner tag of this replica's staging folders. Implemented over etcd ({@code dev.pruneserve.etcd});
 * a single server has none. Calls that need the coordination engine throw {@code ServingException}
 * UNAVAILABLE when it cannot be reached. Thread-safe.
 */
public interface Fleet extends AutoCloseable {
  /** One alias as the fleet stores it; {@code target} "" = deleted; {@code revision}: the change's revision. */
  record AliasRecord(String alias, String target, long revision) {}

  /** Every alias and the revision the table was read at. */
  record Table(List<AliasRecord> aliases, long revision) {}

  /** A change the fleet agreed on: the previous target ("" = none) and the change's revision. */
  record Change(String previous, long revision) {}

  /** Holds a fleet lock until closed (or until this replica's lease expires). */
  interface Held extends AutoCloseable {
    @Override
    void close();
  }

  Table aliases();

  /**
   * Points {@code alias} at {@code target} for the whole fleet; with {@code expected} present, only if
   * the fleet's alias points there now ("" = must not exist).
   *
   * @throws dev.pruneserve.error.ServingException FAILED_PRECONDITION when the compare fails
   */
  Change setAlias(String alias, String target, Optional<String> expected);

  /** Deletes {@code alias} fleet-wide; empty when it did not exist. */
  Optional<Change> deleteAlias(String alias);

  /**
   * Calls {@code listener} with every alias of the fleet's table, then with every change, in
   * revision order, on one thread; retries until the engine is reachable and resumes by itself after
   * a lost connection (a resumed table reports aliases deleted meanwhile with target ""). The
   * listener returns false when it could not apply a change here; that change is offered again
   * every few seconds until it applies or a newer one supersedes it. {@code tableRead} runs after
   * the first table was handed over. Called once.
   */
  void followAliases(java.util.function.Predicate<AliasRecord> listener, Runnable tableRead);

  /**
   * Takes the fleet lock {@code name}, waiting while another replica holds it; empty when
   * {@code cancelled} turned true first. The lock is bound to this replica's lease, so a replica
   * that dies releases it when its lease expires.
   */
  Optional<Held> lock(String name, BooleanSupplier cancelled);

  /** A prune's progress as its lock holder published it. */
  record Progress(String replica, String phase, double fraction) {}

  /**
   * Publishes the progress of the prune holding lock {@code name} (bound to this replica's lease;
   * removed when the lock is released). Fire and forget: never blocks, never throws.
   */
  void publishProgress(String name, String phase, double fraction);

  /** What the holder of lock {@code name} published last; empty when nothing (or etcd is away). */
  Optional<Progress> progressOf(String name);

  /** This replica's name in the fleet. */
  String replicaId();

  /** The owner tag a staging folder written now carries (replica and lease). */
  String ownerTag();

  /** Whether the replica that wrote {@code tag} still holds its lease; true when that cannot be told. */
  boolean ownerAlive(String tag);

  @Override
  void close();
}
