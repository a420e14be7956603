package dev.pruneserve.model;

import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The server's readiness: false until start-up loading has finished and again from the start of
 * shutdown; each change is published to every {@link HealthReporter}. Thread-safe.
 */
public final class Readiness {
  private final AtomicBoolean ready = new AtomicBoolean();
  private volatile long drainDeadline; // System.nanoTime() by which the drain must end; 0 = not draining
  private final List<HealthReporter> reporters;

  public Readiness(List<HealthReporter> reporters) {
    this.reporters = List.copyOf(reporters);
  }

  public void set(boolean serving) {
    ready.set(serving);
    reporters.forEach(r -> r.serving(serving));
  }

  public boolean isReady() {
    return ready.get();
  }

  /** Starts the drain: not ready from now, and every wait of the shutdown shares one deadline. */
  public void beginDrain(java.time.Duration timeout) {
    drainDeadline = System.nanoTime() + timeout.toNanos();
    set(false);
  }

  /** Time left of the shutdown's single deadline (zero when past it or no drain started). */
  public java.time.Duration drainRemaining() {
    long d = drainDeadline;
    return d == 0 ? java.time.Duration.ZERO : java.time.Duration.ofNanos(Math.max(0, d - System.nanoTime()));
  }
}
