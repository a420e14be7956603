package dev.pruneserve.variant;

import dev.pruneserve.error.ServingException;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * One pruning job and the callers watching it. State changes come from the worker thread; callers
 * attach and detach from any thread. A job whose last watcher detaches while running is cancelled
 * (the worker stops at its next progress report). Terminal states never change.
 */
public final class PruneJob {
  public enum State {
    RUNNING, SUCCEEDED, FAILED, CANCELLED
  }

  /** Receives a job's events, in order, possibly from the worker thread. */
  public interface Listener {
    void progress(PruneJob job);

    void done(PruneJob job, VariantManifest variant, boolean reused);

    void failed(PruneJob job, ServingException error);
  }

  private final String id;
  private final String variantName;
  private final long startNanos = System.nanoTime();
  private final List<Listener> listeners = new CopyOnWriteArrayList<>();
  private volatile State state = State.RUNNING;
  private volatile String phase = "queued";
  private volatile double fraction;
  private volatile boolean cancelRequested;
  private volatile boolean reused;
  private volatile VariantManifest result;
  private volatile ServingException error;

  PruneJob(String id, String variantName) {
    this.id = id;
    this.variantName = variantName;
  }

  public String id() {
    return id;
  }

  public String variantName() {
    return variantName;
  }

  public State state() {
    return state;
  }

  public String phase() {
    return phase;
  }

  public double fraction() {
    return fraction;
  }

  public double elapsedSeconds() {
    return (System.nanoTime() - startNanos) / 1e9;
  }

  /** Linear estimate from the fraction done; 0 when unknown. */
  public double etaSeconds() {
    double f = fraction;
    return f > 0.02 && state == State.RUNNING ? elapsedSeconds() * (1 - f) / f : 0;
  }

  public String error() {
    return error == null ? "" : error.getMessage();
  }

  /** Adds a watcher; a finished job answers it at once. */
  public synchronized void attach(Listener l) {
    switch (state) {
      case SUCCEEDED -> l.done(this, result, reused);
      case FAILED, CANCELLED -> l.failed(this, error);
      default -> {
        listeners.add(l);
        l.progress(this);
      }
    }
  }

  /** Removes a watcher; the last one leaving a running job cancels it. */
  public synchronized void detach(Listener l) {
    listeners.remove(l);
    if (listeners.isEmpty() && state == State.RUNNING) {
      cancelRequested = true;
    }
  }

  public void cancel() {
    cancelRequested = true;
  }

  /**
   * Shutdown: tells every watcher now that the job is cancelled with {@code reason} (their streams
   * end with CANCELLED at once), while the worker stops at its next check and removes what it
   * staged; later state changes reach no watcher.
   */
  public synchronized void abandon(ServingException reason) {
    cancelRequested = true;
    listeners.forEach(l -> l.failed(this, reason));
    listeners.clear();
  }

  /** Worker side: records progress; throws when cancellation was asked for. */
  synchronized void report(String phase, double fraction) {
    if (cancelRequested) {
      throw new CancellationException("prune job " + id + " cancelled");
    }
    this.phase = phase;
    this.fraction = Math.max(this.fraction, Math.min(1, fraction));
    listeners.forEach(l -> l.progress(this));
  }

  boolean cancelRequested() {
    return cancelRequested;
  }

  synchronized void succeed(VariantManifest m, boolean wasReused) {
    result = m;
    reused = wasReused;
    fraction = 1;
    phase = "done";
    state = State.SUCCEEDED;
    listeners.forEach(l -> l.done(this, m, wasReused));
    listeners.clear();
  }

  synchronized void fail(ServingException e, boolean cancelled) {
    error = e;
    state = cancelled ? State.CANCELLED : State.FAILED;
    listeners.forEach(l -> l.failed(this, e));
    listeners.clear();
  }
}
