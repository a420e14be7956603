package dev.pruneserve.variant;

import dev.pruneserve.error.ErrorKind;
import dev.pruneserve.error.ServingException;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

/**
 * Admission and deduplication of prune jobs: at most one running job per variant name (identical
 * requests join it), at most {@code maxJobs} running or queued, every job findable by id. Ends of
 * jobs are signalled to {@link #awaitIdle} waiters. Thread-safe: one monitor guards the running set.
 */
final class JobBoard {
  /**
   * What {@link #admit} did: joined or created a job; {@code start}: the caller must run it;
   * {@code stored}: a stored variant answers it (the caller completes the job).
   */
  record Admission(PruneJob job, boolean start, Optional<VariantManifest> stored) {}

  private final Map<String, PruneJob> running = new java.util.HashMap<>();
  private final Map<String, PruneJob> jobs = new ConcurrentHashMap<>();
  private final int maxJobs;
  private final MeterRegistry meters;

  JobBoard(int maxJobs, MeterRegistry meters) {
    this.maxJobs = maxJobs;
    this.meters = meters;
  }

  /**
   * Joins the running job for {@code name}, or creates one: answered by the variant {@code stored}
   * finds, or admitted as running within the job limit.
   *
   * @throws ServingException RESOURCE_EXHAUSTED when the limit is reached
   */
  synchronized Admission admit(String name, Supplier<Optional<VariantManifest>> stored) {
    PruneJob job = running.get(name);
    if (job != null) {
      return new Admission(job, false, Optional.empty());
    }
    job = new PruneJob(UUID.randomUUID().toString().substring(0, 8), name);
    Optional<VariantManifest> existing = stored.get();
    if (existing.isPresent()) {
      jobs.put(job.id(), job);
      return new Admission(job, false, existing);
    }
    if (running.size() >= maxJobs) {
      throw new ServingException(ErrorKind.RESOURCE_EXHAUSTED, running.size() + " prune jobs are running or queued,"
          + " the limit (pruneserve.limits.max-prune-jobs = " + maxJobs + "); retry when one finishes or cancel one");
    }
    jobs.put(job.id(), job);
    running.put(name, job);
    return new Admission(job, true, Optional.empty());
  }

  Optional<PruneJob> job(String id) {
    return Optional.ofNullable(jobs.get(id));
  }

  synchronized boolean isRunning(String name) {
    return running.containsKey(name);
  }

  /** Runs {@code action} while no job can start or end (variant administration). */
  synchronized <T> T locked(Supplier<T> action) {
    return action.get();
  }

  /** Worker side: removes the job from the running set, applies its terminal state, records metrics. */
  void end(PruneJob job, Runnable terminal) {
    synchronized (this) {
      running.remove(job.variantName());
      terminal.run();
      notifyAll();
    }
    String outcome = job.state().name().toLowerCase(Locale.ROOT);
    meters.counter("pruneserve_prune_jobs_total", "outcome", outcome).increment();
    meters.timer("pruneserve_prune_job_seconds", "outcome", outcome)
        .record(Duration.ofNanos((long) (job.elapsedSeconds() * 1e9)));
  }

  /** Asks every running or queued job to stop, ending its watchers' streams CANCELLED now; returns how many. */
  synchronized int cancelAll() {
    running.values().forEach(j -> j.abandon(new ServingException(dev.pruneserve.error.ErrorKind.CANCELLED,
        "the server is shutting down; prune job " + j.id() + " was cancelled")));
    return running.size();
  }

  /** Waits until no job runs or is queued, or {@code timeout} passed; true when idle. */
  synchronized boolean awaitIdle(Duration timeout) throws InterruptedException {
    long end = System.nanoTime() + timeout.toNanos();
    while (!running.isEmpty()) {
      long left = end - System.nanoTime();
      if (left <= 0) {
        return false;
      }
      wait(Math.max(1, left / 1_000_000));
    }
    return true;
  }
}
