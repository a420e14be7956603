package dev.pruneserve.model;

import dev.pruneserve.repository.ModelConfigFile;
import dev.pruneserve.session.ModelSession;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Reference-counted owner of one {@link ModelSession}. Closing an ORT session while a run is in
 * flight crashes the JVM, so the session is closed only when the handle is retired <em>and</em> the
 * last lease is released — exactly once, by whichever thread brings the count to zero.
 *
 * <p>The count starts at 1 for the owner (the registry entry). {@link #tryAcquire} fails once the
 * handle is retired; callers then re-resolve the current handle.
 */
public final class ModelHandle {
  private final ModelSession session;
  private final String version;
  private final ModelConfigFile config;
  private final String model;
  private final java.nio.file.Path directory;
  private final AtomicInteger refs = new AtomicInteger(1);
  private final AtomicBoolean retired = new AtomicBoolean();
  private final CompletableFuture<Void> closedSignal = new CompletableFuture<>();

  public ModelHandle(String version, ModelSession session) {
    this(version, session, ModelConfigFile.DEFAULT);
  }

  /** @param config the config.json the session was loaded with */
  public ModelHandle(String version, ModelSession session, ModelConfigFile config) {
    this("", null, version, session, config);
  }

  /**
   * @param model the repository model this session belongs to (what an alias resolved to)
   * @param directory that model's folder (tokenizers and other files named by its config)
   */
  public ModelHandle(String model, java.nio.file.Path directory, String version, ModelSession session,
      ModelConfigFile config) {
    this.model = model;
    this.directory = directory;
    this.version = version;
    this.session = session;
    this.config = config;
  }

  public String model() {
    return model;
  }

  public java.nio.file.Path directory() {
    return directory;
  }

  public ModelConfigFile config() {
    return config;
  }

  public String version() {
    return version;
  }

  public ModelSession session() {
    return session;
  }

  /** True once retired and every lease released (the session is closed). */
  public boolean closed() {
    return refs.get() == 0;
  }

  /** Completes when the session is closed (retired and every lease released). */
  public CompletableFuture<Void> whenClosed() {
    return closedSignal;
  }

  /** A lease that keeps the session open until closed, or empty when the handle is retired. */
  public Optional<Lease> tryAcquire() {
    while (true) {
      int n = refs.get();
      if (n == 0 || retired.get()) {
        return Optional.empty();
      }
      if (refs.compareAndSet(n, n + 1)) {
        if (retired.get()) {
          release();
          return Optional.empty();
        }
        return Optional.of(new Lease(this));
      }
    }
  }

  /** Stops new leases and drops the owner's reference; idempotent. */
  public void retire() {
    if (retired.compareAndSet(false, true)) {
      release();
    }
  }

  /** Current number of references (owner + leases); for diagnostics and tests. */
  int references() {
    return refs.get();
  }

  void release() {
    if (refs.decrementAndGet() == 0) {
      try {
        session.close();
      } finally {
        closedSignal.complete(null);
      }
    }
  }
}
