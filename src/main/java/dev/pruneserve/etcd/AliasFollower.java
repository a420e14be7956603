package dev.pruneserve.etcd;

import dev.pruneserve.error.ServingException;
import dev.pruneserve.variant.Fleet.AliasRecord;
import dev.pruneserve.variant.Fleet.Table;
import io.etcd.jetcd.Watch;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Predicate;
import java.util.function.Supplier;
import org.jboss.logging.Logger;

/**
 * Follows the alias prefix for {@link EtcdFleet#followAliases}: reads the table (retrying every
 * second until etcd answers), hands every alias to the listener, then watches from the next
 * revision. A watch that ends (an error, or a stream closed by a restarting etcd) makes it read the
 * table again; a table read every {@link #RECONCILE} catches a watch that went stale silently
 * (jetcd's can after an etcd restart) and offers again every change the listener could not apply.
 * Everything runs on one daemon thread, so the listener sees changes in revision order.
 */
final class AliasFollower implements AutoCloseable {
  private static final Logger LOG = Logger.getLogger(AliasFollower.class);
  /** How often the table is read to catch what a silent watch missed and to retry failed changes. */
  static final Duration RECONCILE = Duration.ofSeconds(2);

  /** Opens a watch from {@code revision}; batches go to {@code events}, its end (with the reason) to {@code ended}. */
  interface Watching {
    Watch.Watcher watch(long revision, Consumer<List<AliasRecord>> events, Consumer<String> ended);
  }

  private final Supplier<Table> table;
  private final Watching watching;
  private final ScheduledExecutorService thread;
  // all below confined to the thread
  private final Set<String> known = new HashSet<>();
  private final Map<String, AliasRecord> failed = new HashMap<>(); // latest change per alias not applied here
  private Predicate<AliasRecord> listener;
  private Runnable firstTable; // null once run
  private long last; // highest revision handed over
  private Watch.Watcher watcher;
  private int generation; // of the open watch: callbacks of a watch closed on purpose are ignored
  private volatile boolean closed;

  AliasFollower(Supplier<Table> table, Watching watching, String replica) {
    this.table = table;
    this.watching = watching;
    this.thread = Executors.newSingleThreadScheduledExecutor(dev.pruneserve.concurrent.DaemonThreads.named(
        "pruneserve-fleet-aliases-" + replica));
  }

  void start(Predicate<AliasRecord> l, Runnable tableRead) {
    post(() -> {
      listener = l;
      firstTable = tableRead;
      resync();
    });
  }

  /** First start and after a watch ended: the table, then a watch from the revision after it. */
  private void resync() {
    if (closed) {
      return;
    }
    if (applyTable() < 0) {
      thread.schedule(this::resync, 1, TimeUnit.SECONDS);
      return;
    }
    if (firstTable != null) {
      firstTable.run();
      firstTable = null;
      thread.scheduleWithFixedDelay(this::reconcile, RECONCILE.toMillis(), RECONCILE.toMillis(),
          TimeUnit.MILLISECONDS);
    }
    openWatch();
  }

  /** Every {@link #RECONCILE}: failed changes offered again, then the table compared with what was handed over. */
  private void reconcile() {
    try {
      if (closed) {
        return;
      }
      for (AliasRecord r : List.copyOf(failed.values())) {
        hand(r);
      }
      if (firstTable == null && applyTable() > 0 && watcher != null) { // read even while no watch is open
        LOG.infof("the fleet alias watch missed changes (or the table was read first); reopening it");
        closeWatch();
        openWatch();
      }
    } catch (RuntimeException e) { // never let the periodic task die
      LOG.errorf(e, "fleet alias reconcile failed");
    }
  }

  /** Hands over what the table holds beyond {@link #last}; the number handed, or -1 when etcd did not answer. */
  private int applyTable() {
    Table t;
    try {
      t = table.get();
    } catch (ServingException e) {
      LOG.debugf("fleet aliases not read: %s", e.getMessage());
      return -1;
    }
    int handed = 0;
    Set<String> gone = new HashSet<>(known);
    for (AliasRecord r : t.aliases()) {
      gone.remove(r.alias());
      if (r.revision() > last) {
        hand(r);
        handed++;
      }
    }
    for (String a : gone) {
      hand(new AliasRecord(a, "", t.revision()));
      handed++;
    }
    last = Math.max(last, t.revision());
    return handed;
  }

  private void openWatch() {
    int gen = ++generation;
    watcher = watching.watch(last + 1, batch -> post(() -> {
      if (gen == generation) {
        batch.forEach(this::deliver);
      }
    }), why -> post(() -> {
      if (gen == generation) {
        restart(why);
      }
    }));
  }

  /** Closes the open watch on purpose: its callbacks (jetcd reports a close as completed) are ignored. */
  private void closeWatch() {
    generation++;
    if (watcher != null) {
      watcher.close();
      watcher = null;
    }
  }

  private void restart(String why) {
    LOG.warnf("fleet alias watch ended (%s); reading the table again", why);
    closeWatch();
    thread.schedule(this::resync, 1, TimeUnit.SECONDS);
  }

  /** A watched change; one already handed over (a watch resumed over it) is skipped. */
  private void deliver(AliasRecord r) {
    if (closed || r.revision() <= last) {
      return;
    }
    last = r.revision();
    hand(r);
  }

  private void hand(AliasRecord r) {
    if (closed) {
      return;
    }
    if (r.target().isEmpty()) {
      known.remove(r.alias());
    } else {
      known.add(r.alias());
    }
    failed.remove(r.alias()); // a newer change supersedes a failed one
    boolean applied;
    try {
      applied = listener.test(r);
    } catch (RuntimeException e) {
      LOG.errorf(e, "alias change %s -> '%s' not applied", r.alias(), r.target());
      applied = false;
    }
    if (!applied) {
      failed.put(r.alias(), r);
    }
  }

  private void post(Runnable task) {
    try {
      thread.execute(task);
    } catch (RejectedExecutionException e) {
      // closed: late callbacks of jetcd are dropped
    }
  }

  @Override
  public void close() {
    closed = true;
    post(this::closeWatch);
    thread.shutdown();
  }
}
