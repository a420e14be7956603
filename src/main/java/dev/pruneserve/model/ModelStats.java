package dev.pruneserve.model;

import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * Cumulative counters of one model version, in Triton's ModelStatistics terms. Thread-safe;
 * durations are nanoseconds, {@code lastInferenceMs} is milliseconds since the epoch.
 */
public final class ModelStats {
  /** A cumulative count and total duration. */
  public static final class Duration {
    private final LongAdder count = new LongAdder();
    private final LongAdder nanos = new LongAdder();

    void add(long ns) {
      count.increment();
      nanos.add(ns);
    }

    public long count() {
      return count.sum();
    }

    public long nanos() {
      return nanos.sum();
    }
  }

  private final String name;
  private final String version;
  private final LongAdder inferenceCount = new LongAdder();
  private final LongAdder executionCount = new LongAdder();
  private final AtomicLong lastInferenceMs = new AtomicLong();
  private final Duration success = new Duration();
  private final Duration fail = new Duration();
  private final Duration computeInfer = new Duration();

  ModelStats(String name, String version) {
    this.name = name;
    this.version = version;
  }

  void recordSuccess(long batchSize, long totalNs, long inferNs, long nowMs) {
    inferenceCount.add(batchSize);
    executionCount.increment();
    success.add(totalNs);
    computeInfer.add(inferNs);
    lastInferenceMs.accumulateAndGet(nowMs, Math::max);
  }

  void recordFailure(long totalNs, long nowMs) {
    fail.add(totalNs);
    lastInferenceMs.accumulateAndGet(nowMs, Math::max);
  }

  public String name() {
    return name;
  }

  public String version() {
    return version;
  }

  public long inferenceCount() {
    return inferenceCount.sum();
  }

  public long executionCount() {
    return executionCount.sum();
  }

  public long lastInferenceMs() {
    return lastInferenceMs.get();
  }

  public Duration success() {
    return success;
  }

  public Duration fail() {
    return fail;
  }

  public Duration computeInfer() {
    return computeInfer;
  }
}
