package dev.pruneserve.variant;

import dev.pruneserve.error.ServingException;

/**
 * Publishes the progress of a prune that holds a fleet lock, so replicas waiting for the same
 * variant report it ({@link Fleet#publishProgress}): on every phase change and every 5 % of
 * progress. Called on the pruning worker only.
 */
final class FleetProgress implements PruneJob.Listener {
  private final Fleet fleet;
  private final String lock;
  private String phase = "";
  private double fraction = -1;

  FleetProgress(Fleet fleet, String lock) {
    this.fleet = fleet;
    this.lock = lock;
  }

  @Override
  public void progress(PruneJob job) {
    if (!job.phase().equals(phase) || job.fraction() - fraction >= 0.05) {
      phase = job.phase();
      fraction = job.fraction();
      fleet.publishProgress(lock, phase, fraction);
    }
  }

  @Override
  public void done(PruneJob job, VariantManifest variant, boolean reused) {}

  @Override
  public void failed(PruneJob job, ServingException error) {}
}
