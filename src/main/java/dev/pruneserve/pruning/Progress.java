package dev.pruneserve.pruning;

/**
 * Receives the progress of a pruning run from the thread doing the work. An implementation may
 * throw {@link java.util.concurrent.CancellationException} to stop the run at the next report;
 * reports come at least once per calibration sequence, so cancellation is prompt.
 */
@FunctionalInterface
public interface Progress {
  Progress NONE = (phase, fraction) -> {};

  /**
   * @param phase calibrating | scoring | validating
   * @param fraction of this phase done, 0..1
   */
  void report(String phase, double fraction);
}
