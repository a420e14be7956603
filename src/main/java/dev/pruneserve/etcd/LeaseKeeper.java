package dev.pruneserve.etcd;

import dev.pruneserve.error.ServingException;
import io.etcd.jetcd.Lease;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.jboss.logging.Logger;

/**
 * This replica's etcd lease: granted on first use, renewed every third of its TTL on a daemon
 * thread; when no renewal succeeded for a whole TTL (etcd was unreachable) it counts as expired and
 * the next use grants a new one — the locks it held are gone by then. Revoked on close, so a
 * stopped replica frees its locks at once; a killed one frees them when the TTL runs out.
 * Thread-safe.
 */
final class LeaseKeeper implements AutoCloseable {
  private static final Logger LOG = Logger.getLogger(LeaseKeeper.class);
  private final Lease client;
  private final Duration ttl;
  private final EtcdCalls calls;
  private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
    Thread t = new Thread(r, "pruneserve-etcd-lease");
    t.setDaemon(true);
    return t;
  });
  private long id; // guarded by this; 0 = none
  private long renewedNanos; // guarded by this
  private long lastGranted; // guarded by this

  LeaseKeeper(Lease client, Duration ttl, EtcdCalls calls) {
    this.client = client;
    this.ttl = ttl;
    this.calls = calls;
    long every = Math.max(200, ttl.toMillis() / 3);
    timer.scheduleWithFixedDelay(this::renew, every, every, TimeUnit.MILLISECONDS);
  }

  /** The live lease, granted now if there is none. @throws ServingException UNAVAILABLE */
  synchronized long id() {
    if (id == 0 || System.nanoTime() - renewedNanos > ttl.toNanos()) {
      id = calls.await(client.grant(Math.max(1, ttl.toSeconds()))).getID();
      lastGranted = id;
      renewedNanos = System.nanoTime();
    }
    return id;
  }

  /** The lease granted last (0 if none), without asking etcd. */
  synchronized long lastKnown() {
    return lastGranted;
  }

  private void renew() {
    long current;
    synchronized (this) {
      current = id;
    }
    if (current == 0) {
      return;
    }
    try {
      long left = calls.await(client.keepAliveOnce(current)).getTTL();
      synchronized (this) {
        if (id == current) {
          if (left > 0) {
            renewedNanos = System.nanoTime();
          } else {
            id = 0; // expired in etcd
          }
        }
      }
    } catch (RuntimeException e) { // unreachable (ServingException) or refused: the TTL check in id() decides
      LOG.debugf("lease %x not renewed: %s", current, e.getMessage());
    }
  }

  @Override
  public void close() {
    timer.shutdownNow();
    long current;
    synchronized (this) {
      current = id;
      id = 0;
    }
    if (current != 0) {
      try {
        calls.await(client.revoke(current));
      } catch (ServingException e) {
        LOG.infof("lease %x not revoked (%s); it expires within %d s", current, e.getMessage(), ttl.toSeconds());
      }
    }
  }
}
