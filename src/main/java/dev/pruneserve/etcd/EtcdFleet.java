package dev.pruneserve.etcd;

import dev.pruneserve.error.ServingException;
import dev.pruneserve.variant.Fleet;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.Watch;
import io.etcd.jetcd.kv.TxnResponse;
import io.etcd.jetcd.lock.LockResponse;
import io.etcd.jetcd.op.Cmp;
import io.etcd.jetcd.op.CmpTarget;
import io.etcd.jetcd.op.Op;
import io.etcd.jetcd.options.DeleteOption;
import io.etcd.jetcd.options.GetOption;
import io.etcd.jetcd.options.LeaseOption;
import io.etcd.jetcd.options.PutOption;
import io.etcd.jetcd.options.WatchOption;
import io.etcd.jetcd.watch.WatchEvent;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import org.jboss.logging.Logger;

/**
 * {@link Fleet} over etcd. Keys: {@code <prefix>aliases/<alias>} = target (SetAlias is one etcd
 * transaction comparing the key's value), {@code <prefix>locks/<name>} through etcd's lock service,
 * bound to this replica's lease ({@code leaseSeconds} TTL, renewed every third of it, re-granted
 * after it expired). Every call waits at most {@code timeout}, then fails UNAVAILABLE. Alias changes
 * reach the listener on one thread ({@link AliasFollower}). Thread-safe.
 */
public final class EtcdFleet implements Fleet {
  private static final Logger LOG = Logger.getLogger(EtcdFleet.class);

  /** @param endpoints etcd client URLs; {@code prefix} starts every key; {@code replicaId} names this server */
  public record Settings(List<String> endpoints, String prefix, String replicaId, Duration leaseTtl,
      Duration timeout) {}

  private final Settings settings;
  private final EtcdCalls calls;
  private final Client client;
  private final LeaseKeeper lease;
  private final AliasFollower follower;
  private final java.util.Map<String, CompletableFuture<LockResponse>> orphans = new java.util.concurrent.ConcurrentHashMap<>();

  public EtcdFleet(Settings settings) {
    this.settings = settings;
    this.calls = new EtcdCalls(settings.endpoints(), settings.timeout());
    this.client = Client.builder().endpoints(settings.endpoints().toArray(String[]::new)).build();
    this.lease = new LeaseKeeper(client.getLeaseClient(), settings.leaseTtl(), calls);
    this.follower = new AliasFollower(this::aliases, this::watchFrom, settings.replicaId());
  }

  @Override
  public Table aliases() {
    ByteSequence p = key("aliases/");
    var r = calls.await(client.getKVClient().get(p, GetOption.builder().isPrefix(true).build()));
    List<AliasRecord> out = new ArrayList<>();
    for (KeyValue kv : r.getKvs()) {
      out.add(new AliasRecord(alias(kv), kv.getValue().toString(StandardCharsets.UTF_8), kv.getModRevision()));
    }
    return new Table(out, r.getHeader().getRevision());
  }

  /**
   * One transaction. Without {@code expected} the compare is on the key's mod revision as read just
   * before (re-read up to 5 times when another change slips in): jetcd retries a request whose
   * answer timed out, and the guard makes such a late retry fail instead of overwriting a newer
   * change.
   */
  @Override
  public Change setAlias(String alias, String target, Optional<String> expected) {
    ByteSequence k = key("aliases/" + alias);
    for (int attempt = 0;; attempt++) {
      Cmp cmp;
      if (expected.isPresent()) {
        cmp = expected.get().isEmpty() ? new Cmp(k, Cmp.Op.EQUAL, CmpTarget.version(0)) : new Cmp(k, Cmp.Op.EQUAL,
            CmpTarget.value(bytes(expected.get())));
      } else {
        List<KeyValue> now = calls.await(client.getKVClient().get(k)).getKvs();
        cmp = new Cmp(k, Cmp.Op.EQUAL, CmpTarget.modRevision(now.isEmpty() ? 0 : now.get(0).getModRevision()));
      }
      TxnResponse r = calls.await(client.getKVClient().txn().If(cmp).Then(Op.put(k, bytes(target), PutOption
          .builder().withPrevKV().build())).Else(Op.get(k, GetOption.DEFAULT)).commit());
      if (r.isSucceeded()) {
        var put = r.getPutResponses().get(0);
        String previous = put.hasPrevKv() ? put.getPrevKv().getValue().toString(StandardCharsets.UTF_8) : "";
        return new Change(previous, r.getHeader().getRevision());
      }
      if (expected.isPresent() || attempt >= 4) {
        List<KeyValue> now = r.getGetResponses().isEmpty() ? List.of() : r.getGetResponses().get(0).getKvs();
        String current = now.isEmpty() ? "" : now.get(0).getValue().toString(StandardCharsets.UTF_8);
        throw ServingException.precondition("alias '" + alias + "' points at '" + current + "' in the fleet"
            + (expected.isPresent() ? ", not the expected '" + expected.get() + "'" : " and kept changing")
            + "; read it again and retry");
      }
    }
  }

  @Override
  public Optional<Change> deleteAlias(String alias) {
    var r = calls.await(client.getKVClient().delete(key("aliases/" + alias), DeleteOption.builder().withPrevKV(true)
        .build()));
    if (r.getDeleted() == 0) {
      return Optional.empty();
    }
    return Optional.of(new Change(r.getPrevKvs().get(0).getValue().toString(StandardCharsets.UTF_8), r.getHeader()
        .getRevision()));
  }

  @Override
  public void followAliases(java.util.function.Predicate<AliasRecord> listener, Runnable tableRead) {
    follower.start(listener, tableRead);
  }

  /** One watch on the alias prefix from {@code revision}; events and its end go to the follower. */
  private Watch.Watcher watchFrom(long revision, Consumer<List<AliasRecord>> events, Consumer<String> ended) {
    return client.getWatchClient().watch(key("aliases/"), WatchOption.builder().isPrefix(true).withRevision(revision)
        .build(), Watch.listener(r -> {
          List<AliasRecord> batch = new ArrayList<>();
          for (WatchEvent e : r.getEvents()) {
            KeyValue kv = e.getKeyValue();
            batch.add(new AliasRecord(alias(kv), e.getEventType() == WatchEvent.EventType.DELETE ? "" : kv.getValue()
                .toString(StandardCharsets.UTF_8), kv.getModRevision()));
          }
          events.accept(batch);
        }, error -> ended.accept(error.getClass().getSimpleName() + ": " + error.getMessage()), () -> ended.accept(
            "the stream was closed")));
  }

  /**
   * Locks are etcd's lock service under this replica's lease, so two waits here on one name would
   * share one etcd key: a wait given up (its job cancelled) leaves its pending request in
   * {@link #orphans}, the next wait on that name adopts it, and one nobody adopts is unlocked as
   * soon as etcd grants it.
   */
  @Override
  public Optional<Held> lock(String name, BooleanSupplier cancelled) {
    CompletableFuture<LockResponse> adopted = orphans.remove(name);
    CompletableFuture<LockResponse> f = adopted != null && !adopted.isCompletedExceptionally() ? adopted
        : client.getLockClient().lock(key("locks/" + name), lease.id());
    while (true) {
      try {
        ByteSequence owned = f.get(250, TimeUnit.MILLISECONDS).getKey();
        return Optional.of(() -> {
          try {
            calls.await(client.getKVClient().delete(key("jobs/" + name)));
            calls.await(client.getLockClient().unlock(owned));
          } catch (ServingException e) { // the lease's expiry releases it
            LOG.warnf("fleet lock %s not released (%s); it goes with this replica's lease", name, e.getMessage());
          }
        });
      } catch (TimeoutException e) {
        if (cancelled.getAsBoolean()) {
          orphans.put(name, f);
          f.thenAccept(r -> {
            if (orphans.remove(name, f)) {
              client.getLockClient().unlock(r.getKey());
            }
          });
          return Optional.empty();
        }
      } catch (ExecutionException e) {
        throw calls.unavailable(e.getCause());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw ServingException.unavailable("interrupted while waiting for the fleet lock " + name);
      }
    }
  }

  @Override
  public void publishProgress(String name, String phase, double fraction) {
    try {
      client.getKVClient().put(key("jobs/" + name), bytes(settings.replicaId() + "\t" + phase + "\t" + fraction),
          PutOption.builder().withLeaseId(lease.id()).build()).exceptionally(e -> null);
    } catch (ServingException e) {
      LOG.debugf("progress of %s not published: %s", name, e.getMessage());
    }
  }

  @Override
  public Optional<Progress> progressOf(String name) {
    try {
      List<KeyValue> kvs = calls.await(client.getKVClient().get(key("jobs/" + name))).getKvs();
      if (kvs.isEmpty()) {
        return Optional.empty();
      }
      String[] f = kvs.get(0).getValue().toString(StandardCharsets.UTF_8).split("\t", 3);
      return f.length == 3 ? Optional.of(new Progress(f[0], f[1], Double.parseDouble(f[2]))) : Optional.empty();
    } catch (ServingException | NumberFormatException e) {
      return Optional.empty();
    }
  }

  @Override
  public String replicaId() {
    return settings.replicaId();
  }

  @Override
  public String ownerTag() {
    long id;
    try {
      id = lease.id();
    } catch (ServingException e) { // etcd away: the last lease, which recovery elsewhere still sees as alive or not
      id = lease.lastKnown();
    }
    return settings.replicaId() + "/" + Long.toHexString(id);
  }

  @Override
  public boolean ownerAlive(String tag) {
    int slash = tag.lastIndexOf('/');
    try {
      long id = Long.parseUnsignedLong(tag.substring(slash + 1), 16);
      return calls.await(client.getLeaseClient().timeToLive(id, LeaseOption.DEFAULT)).getTTL() > 0;
    } catch (NumberFormatException e) {
      return false; // not a tag this code wrote
    } catch (ServingException e) {
      return true; // cannot tell: never remove a write that may be live
    }
  }

  @Override
  public void close() {
    follower.close();
    lease.close();
    client.close();
  }

  private ByteSequence key(String suffix) {
    return bytes(settings.prefix() + suffix);
  }

  private String alias(KeyValue kv) {
    return kv.getKey().toString(StandardCharsets.UTF_8).substring(settings.prefix().length() + "aliases/".length());
  }

  private static ByteSequence bytes(String s) {
    return ByteSequence.from(s, StandardCharsets.UTF_8);
  }
}
