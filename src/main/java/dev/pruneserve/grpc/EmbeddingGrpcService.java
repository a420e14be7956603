package dev.pruneserve.grpc;

import dev.pruneserve.api.v1.EmbedRequest;
import dev.pruneserve.api.v1.EmbedResponse;
import dev.pruneserve.api.v1.EmbeddingGrpc;
import dev.pruneserve.embed.EmbeddingService;
import io.grpc.stub.StreamObserver;
import io.quarkus.grpc.GrpcService;
import io.smallrye.common.annotation.Blocking;
import jakarta.inject.Inject;

/** {@code pruneserve.v1.Embedding}: adapter over {@link EmbeddingService}; runs on worker threads. */
@GrpcService
@Blocking
public class EmbeddingGrpcService extends EmbeddingGrpc.EmbeddingImplBase {
  @Inject EmbeddingService embeddings;

  /** Requests that do not decode answer INVALID_ARGUMENT ({@link UndecodableRequests}). */
  @Override
  public io.grpc.ServerServiceDefinition bindService() {
    return UndecodableRequests.guard(super.bindService());
  }

  @Override
  public void embed(EmbedRequest req, StreamObserver<EmbedResponse> obs) {
    GrpcErrors.unary(obs, () -> {
      boolean normalize = !req.hasNormalize() || req.getNormalize();
      EmbeddingService.Result r = embeddings.embed(req.getModel(), req.getVersion(), req.getTextsList(), normalize,
          req.getPooling());
      EmbedResponse.Builder b = EmbedResponse.newBuilder().setModel(r.model()).setVersion(r.version())
          .setDimensions(r.vectors().get(0).length);
      for (float[] v : r.vectors()) {
        EmbedResponse.Vector.Builder vb = EmbedResponse.Vector.newBuilder();
        for (float x : v) {
          vb.addValues(x);
        }
        b.addEmbeddings(vb);
      }
      for (int c : r.tokenCounts()) {
        b.addTokenCounts(c);
      }
      return b.build();
    });
  }
}
