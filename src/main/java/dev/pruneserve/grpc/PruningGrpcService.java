package dev.pruneserve.grpc;

import dev.pruneserve.api.v1.Alias;
import dev.pruneserve.api.v1.CancelPruneRequest;
import dev.pruneserve.api.v1.DeleteAliasRequest;
import dev.pruneserve.api.v1.DeleteAliasResponse;
import dev.pruneserve.api.v1.DeleteVariantRequest;
import dev.pruneserve.api.v1.DeleteVariantResponse;
import dev.pruneserve.api.v1.GetAliasRequest;
import dev.pruneserve.api.v1.GetPruneJobRequest;
import dev.pruneserve.api.v1.GetVariantRequest;
import dev.pruneserve.api.v1.ListAliasesRequest;
import dev.pruneserve.api.v1.ListAliasesResponse;
import dev.pruneserve.api.v1.ListVariantsRequest;
import dev.pruneserve.api.v1.ListVariantsResponse;
import dev.pruneserve.api.v1.PruneEvent;
import dev.pruneserve.api.v1.PruneJob;
import dev.pruneserve.api.v1.PruneRequest;
import dev.pruneserve.api.v1.PruningGrpc;
import dev.pruneserve.api.v1.SetAliasRequest;
import dev.pruneserve.api.v1.Variant;
import dev.pruneserve.error.ServingException;
import dev.pruneserve.variant.AliasService;
import dev.pruneserve.variant.PruneService;
import dev.pruneserve.variant.VariantManifest;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.quarkus.grpc.GrpcService;
import io.smallrye.common.annotation.Blocking;
import jakarta.inject.Inject;
import java.util.Optional;

/**
 * {@code pruneserve.v1.Pruning}: thin adapter over {@link PruneService} and {@link AliasService}.
 * Prune streams the job's events from the pruning worker thread; a client cancel detaches the
 * stream (and cancels the job if nobody else watches it).
 */
@GrpcService
@Blocking
public class PruningGrpcService extends PruningGrpc.PruningImplBase {
  @Inject PruneService pruning;
  @Inject AliasService aliases;

  /** Requests that do not decode answer INVALID_ARGUMENT ({@link UndecodableRequests}). */
  @Override
  public io.grpc.ServerServiceDefinition bindService() {
    return UndecodableRequests.guard(super.bindService());
  }

  @Override
  public void prune(PruneRequest req, StreamObserver<PruneEvent> obs) {
    ServerCallStreamObserver<PruneEvent> call = (ServerCallStreamObserver<PruneEvent>) obs;
    try {
      PruneStream listener = new PruneStream(call);
      dev.pruneserve.variant.PruneJob job = pruning.prune(PruneWire.spec(req), listener);
      call.setOnCancelHandler(() -> job.detach(listener));
    } catch (RuntimeException e) {
      obs.onError(GrpcErrors.toStatus(e));
    }
  }

  @Override
  public void getPruneJob(GetPruneJobRequest req, StreamObserver<PruneJob> obs) {
    GrpcErrors.unary(obs, () -> PruneWire.job(pruning.job(req.getJobId())
        .orElseThrow(() -> ServingException.notFound("no prune job '" + req.getJobId() + "'"))));
  }

  @Override
  public void cancelPrune(CancelPruneRequest req, StreamObserver<PruneJob> obs) {
    GrpcErrors.unary(obs, () -> {
      dev.pruneserve.variant.PruneJob job = pruning.job(req.getJobId())
          .orElseThrow(() -> ServingException.notFound("no prune job '" + req.getJobId() + "'"));
      job.cancel();
      return PruneWire.job(job);
    });
  }

  @Override
  public void listVariants(ListVariantsRequest req, StreamObserver<ListVariantsResponse> obs) {
    GrpcErrors.unary(obs, () -> {
      ListVariantsResponse.Builder b = ListVariantsResponse.newBuilder();
      for (VariantManifest m : pruning.variants(req.getModel())) {
        b.addVariants(PruneWire.variant(m, false).toBuilder().setPinned(pruning.isPinned(m.name())));
      }
      return b.build();
    });
  }

  @Override
  public void getVariant(GetVariantRequest req, StreamObserver<Variant> obs) {
    GrpcErrors.unary(obs, () -> PruneWire.variant(pruning.variant(req.getName()), false).toBuilder()
        .setPinned(pruning.isPinned(req.getName())).build());
  }

  @Override
  public void deleteVariant(DeleteVariantRequest req, StreamObserver<DeleteVariantResponse> obs) {
    GrpcErrors.unary(obs, () -> {
      pruning.delete(req.getName());
      return DeleteVariantResponse.getDefaultInstance();
    });
  }

  @Override
  public void pinVariant(dev.pruneserve.api.v1.PinVariantRequest req, StreamObserver<Variant> obs) {
    GrpcErrors.unary(obs, () -> PruneWire.variant(pruning.pin(req.getName(), req.getPinned()), false).toBuilder()
        .setPinned(req.getPinned()).build());
  }

  @Override
  public void setAlias(SetAliasRequest req, StreamObserver<Alias> obs) {
    GrpcErrors.unary(obs, () -> {
      aliases.set(req.getAlias(), req.getTarget(),
          req.hasExpectedCurrent() ? Optional.of(req.getExpectedCurrent()) : Optional.empty());
      // the change was agreed: its target, whatever this replica serves now
      return aliases.state(req.getAlias()).map(PruningGrpcService::alias).orElse(Alias.getDefaultInstance())
          .toBuilder().setAlias(req.getAlias()).setTarget(req.getTarget()).build();
    });
  }

  @Override
  public void getAlias(GetAliasRequest req, StreamObserver<Alias> obs) {
    GrpcErrors.unary(obs, () -> alias(aliases.state(req.getAlias()).orElseThrow(() -> ServingException.notFound(
        "no alias '" + req.getAlias() + "'"))));
  }

  @Override
  public void listAliases(ListAliasesRequest req, StreamObserver<ListAliasesResponse> obs) {
    GrpcErrors.unary(obs, () -> {
      ListAliasesResponse.Builder b = ListAliasesResponse.newBuilder();
      aliases.list().keySet().forEach(a -> aliases.state(a).ifPresent(st -> b.addAliases(alias(st))));
      return b.build();
    });
  }

  @Override
  public void deleteAlias(DeleteAliasRequest req, StreamObserver<DeleteAliasResponse> obs) {
    GrpcErrors.unary(obs, () -> {
      if (!aliases.delete(req.getAlias())) {
        throw ServingException.notFound("no alias '" + req.getAlias() + "'");
      }
      return DeleteAliasResponse.getDefaultInstance();
    });
  }

  private static Alias alias(AliasService.AliasState s) {
    return Alias.newBuilder().setAlias(s.alias()).setTarget(s.target()).setServedTarget(s.served()).setRevision(s
        .revision()).setServedRevision(s.servedRevision()).setProblem(s.problem()).build();
  }
}
