package dev.pruneserve.model;

import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The server's readiness: false until start-up loading has finished and again from the start of
 * shutdown; each change is published to every {@link HealthReporter}. Thread-safe.
 */
public final class Readiness {
  private final AtomicBoolean ready = new AtomicBoolean();
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
}
