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
  private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(
      dev.pruneserve.concurrent.DaemonThreads.named("pruneserve-etcd-lease"));
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
      if (id != 0) { // not renewed for a whole TTL: etcd dropped it, or will; make sure its locks go
        client.revoke(id);
      }
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
    boolean gone;
    try {
      gone = client.keepAliveOnce(current).get(calls.timeout().toMillis(), TimeUnit.MILLISECONDS).getTTL() <= 0;
    } catch (java.util.concurrent.ExecutionException e) { // jetcd reports a lease etcd no longer has as an error
      gone = String.valueOf(e.getCause().getMessage()).contains("lease not found");
      LOG.debugf("lease %x not renewed: %s", current, e.getCause().getMessage());
    } catch (java.util.concurrent.TimeoutException | RuntimeException e) {
      LOG.debugf("lease %x not renewed: %s", current, e.getMessage()); // unreachable: the TTL check in id() decides
      return;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return;
    }
    synchronized (this) {
      if (id == current) {
        if (gone) {
          LOG.warnf("this replica's etcd lease %x expired; the fleet locks it held are released", current);
          id = 0;
        } else {
          renewedNanos = System.nanoTime();
        }
      }
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
