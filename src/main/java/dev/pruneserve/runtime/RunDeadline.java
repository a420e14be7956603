package dev.pruneserve.runtime;

import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * A deadline for one ONNX Runtime run: its RunOptions get the terminate flag from a shared timer
 * thread when the timeout passes, which makes ORT stop at its next kernel boundary and fail the run.
 * Closing cancels the timer and releases the options; the flag is never set after that. One per run.
 */
final class RunDeadline implements AutoCloseable {
  private static final ScheduledExecutorService TIMER = Executors.newSingleThreadScheduledExecutor(
      dev.pruneserve.concurrent.DaemonThreads.named("pruneserve-run-deadline"));

  private final OrtSession.RunOptions options;
  private final ScheduledFuture<?> timer;
  private boolean closed; // guarded by this

  private RunDeadline(OrtSession.RunOptions options, Duration timeout) {
    this.options = options;
    this.timer = TIMER.schedule(this::terminate, timeout.toNanos(), TimeUnit.NANOSECONDS);
  }

  static RunDeadline start(Duration timeout) throws OrtException {
    return new RunDeadline(new OrtSession.RunOptions(), timeout);
  }

  OrtSession.RunOptions options() {
    return options;
  }

  /** Whether a run failed because its deadline set the terminate flag. */
  static boolean terminated(OrtException e) {
    String m = e.getMessage();
    return m != null && m.contains("terminate flag");
  }

  private synchronized void terminate() {
    if (!closed) {
      try {
        options.setTerminate(true);
      } catch (OrtException e) {
        // the run ends on its own
      }
    }
  }

  @Override
  public synchronized void close() {
    closed = true;
    timer.cancel(false);
    options.close();
  }
}
