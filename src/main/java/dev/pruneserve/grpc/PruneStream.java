package dev.pruneserve.grpc;

import dev.pruneserve.api.v1.PruneEvent;
import dev.pruneserve.error.ServingException;
import dev.pruneserve.variant.PruneJob;
import dev.pruneserve.variant.VariantManifest;
import io.grpc.stub.ServerCallStreamObserver;

/**
 * Writes one caller's view of a prune job to its response stream. Events arrive from the RPC thread
 * (first replay) and the pruning worker; writes are serialised on this object and stop once the
 * call is cancelled or finished.
 */
final class PruneStream implements PruneJob.Listener {
  private final ServerCallStreamObserver<PruneEvent> call;
  private boolean closed;

  PruneStream(ServerCallStreamObserver<PruneEvent> call) {
    this.call = call;
  }

  @Override
  public synchronized void progress(PruneJob job) {
    if (!closed && !call.isCancelled()) {
      call.onNext(PruneEvent.newBuilder().setJobId(job.id()).setProgress(PruneWire.progress(job)).build());
    }
  }

  @Override
  public synchronized void done(PruneJob job, VariantManifest variant, boolean reused) {
    if (!closed && !call.isCancelled()) {
      call.onNext(PruneEvent.newBuilder().setJobId(job.id()).setDone(PruneWire.variant(variant, reused)).build());
      call.onCompleted();
    }
    closed = true;
  }

  @Override
  public synchronized void failed(PruneJob job, ServingException error) {
    if (!closed && !call.isCancelled()) {
      call.onError(GrpcErrors.toStatus(error));
    }
    closed = true;
  }
}
