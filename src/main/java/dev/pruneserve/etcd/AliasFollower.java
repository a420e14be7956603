package dev.pruneserve.etcd;

import dev.pruneserve.error.ServingException;
import dev.pruneserve.variant.Fleet.AliasRecord;
import dev.pruneserve.variant.Fleet.Table;
import io.etcd.jetcd.Watch;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.jboss.logging.Logger;

/**
 * Follows the alias prefix for {@link EtcdFleet#followAliases}: reads the table (retrying every
 * second until etcd answers), hands every alias to the listener, then watches from the next
 * revision. jetcd resumes a watch over a lost connection by itself; when it gives up (e.g. the
 * revision was compacted) the table is read again and aliases that vanished are reported deleted;
 * a table read every {@link #RECONCILE} catches a watch that went stale silently.
 * Everything runs on one daemon thread, so the listener sees changes in revision order.
 */
final class AliasFollower implements AutoCloseable {
  private static final Logger LOG = Logger.getLogger(AliasFollower.class);
  /** How often the table is read to catch what a silent watch missed. */
  static final java.time.Duration RECONCILE = java.time.Duration.ofSeconds(2);

  /** Opens a watch from {@code revision}; batches go to {@code events}, its end (with the reason) to {@code ended}. */
  interface Watching {
    Watch.Watcher watch(long revision, Consumer<List<AliasRecord>> events, Consumer<String> ended);
  }

  private final Supplier<Table> table;
  private final Watching watching;
  private final ScheduledExecutorService thread;
  private final Set<String> known = new HashSet<>(); // confined to the thread
  private Consumer<AliasRecord> listener; // confined to the thread after start
  private long last; // highest revision delivered; confined to the thread
  private Watch.Watcher watcher; // confined to the thread
  private Runnable firstTable; // confined to the thread; null once run
  private volatile boolean closed;

  AliasFollower(Supplier<Table> table, Watching watching, String replica) {
    this.table = table;
    this.watching = watching;
    this.thread = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "pruneserve-fleet-aliases-" + replica);
      t.setDaemon(true);
      return t;
    });
  }

  void start(Consumer<AliasRecord> l, Runnable tableRead) {
    thread.execute(() -> {
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

  /**
   * Every {@link #RECONCILE}: the table read again. A watch can go stale without a word (jetcd's
   * watch may stop delivering after an etcd restart); when the table holds a change the watch
   * missed, it is applied and the watch reopened, so a replica is never more than one interval
   * behind.
   */
  private void reconcile() {
    if (closed || watcher == null) {
      return;
    }
    if (applyTable() > 0) {
      LOG.infof("the fleet alias watch missed changes (or the table was read first); reopening it");
      watcher.close();
      openWatch();
    }
  }

  /** Applies what the table holds beyond {@link #last}; the number applied, or -1 when etcd did not answer. */
  private int applyTable() {
    Table t;
    try {
      t = table.get();
    } catch (ServingException e) {
      LOG.debugf("fleet aliases not read: %s", e.getMessage());
      return -1;
    }
    int applied = 0;
    Set<String> gone = new HashSet<>(known);
    for (AliasRecord r : t.aliases()) {
      gone.remove(r.alias());
      if (r.revision() > last) {
        apply(r);
        applied++;
      }
    }
    for (String a : gone) {
      apply(new AliasRecord(a, "", t.revision()));
      applied++;
    }
    last = Math.max(last, t.revision());
    return applied;
  }

  private void openWatch() {
    watcher = watching.watch(last + 1, batch -> thread.execute(() -> batch.forEach(this::deliver)),
        why -> thread.execute(() -> restart(why)));
  }

  /**
   * The watch ended (an error, or a stream closed by a restarting etcd, which jetcd reports as
   * completed and does not resume): read the table again and watch from there.
   */
  private void restart(String why) {
    LOG.warnf("fleet alias watch ended (%s); reading the table again", why);
    if (watcher != null) {
      watcher.close();
      watcher = null;
    }
    thread.schedule(this::resync, 1, TimeUnit.SECONDS);
  }

  /** A watched change; one already delivered (a watch resumed over it) is skipped. */
  private void deliver(AliasRecord r) {
    if (closed || r.revision() <= last) {
      return;
    }
    last = r.revision();
    apply(r);
  }

  private void apply(AliasRecord r) {
    if (closed) {
      return;
    }
    if (r.target().isEmpty()) {
      known.remove(r.alias());
    } else {
      known.add(r.alias());
    }
    try {
      listener.accept(r);
    } catch (RuntimeException e) {
      LOG.errorf(e, "alias change %s -> '%s' not applied", r.alias(), r.target());
    }
  }

  @Override
  public void close() {
    closed = true;
    thread.execute(() -> {
      if (watcher != null) {
        watcher.close();
      }
    });
    thread.shutdown();
  }
}
