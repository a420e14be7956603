package dev.pruneserve.grpc;

import dev.pruneserve.api.inference.*;
import dev.pruneserve.config.ServerConfig;
import dev.pruneserve.error.ServingException;
import dev.pruneserve.model.IndexEntry;
import dev.pruneserve.model.InferenceRequest;
import dev.pruneserve.model.InferenceResult;
import dev.pruneserve.model.InferenceService;
import dev.pruneserve.model.ModelRegistry;
import dev.pruneserve.model.ModelState;
import io.grpc.stub.StreamObserver;
import io.quarkus.grpc.GrpcService;
import io.smallrye.common.annotation.Blocking;
import jakarta.inject.Inject;
import java.util.List;
import org.eclipse.microprofile.config.inject.ConfigProperty;

/**
 * {@code inference.GRPCInferenceService}: a thin adapter from the KServe v2 / Triton wire contract
 * to the model registry and inference service. Every method runs on a worker thread.
 */
@GrpcService
@Blocking
public class InferenceGrpcService extends GRPCInferenceServiceGrpc.GRPCInferenceServiceImplBase {
  /** Extensions advertised in ServerMetadata: only what is implemented. */
  static final List<String> EXTENSIONS = List.of(
      "model_repository", "model_repository(unload_dependents)", "model_configuration", "statistics");

  @Inject ModelRegistry registry;
  @Inject InferenceService inference;
  @Inject dev.pruneserve.model.Readiness readiness;
  @Inject ServerConfig config;

  @ConfigProperty(name = "quarkus.application.version", defaultValue = "dev") String version;

  /** Requests that do not decode answer INVALID_ARGUMENT ({@link UndecodableRequests}). */
  @Override
  public io.grpc.ServerServiceDefinition bindService() {
    return UndecodableRequests.guard(super.bindService());
  }

  @Override
  public void serverLive(ServerLiveRequest req, StreamObserver<ServerLiveResponse> obs) {
    GrpcErrors.unary(obs, () -> ServerLiveResponse.newBuilder().setLive(true).build());
  }

  @Override
  public void serverReady(ServerReadyRequest req, StreamObserver<ServerReadyResponse> obs) {
    GrpcErrors.unary(obs, () -> ServerReadyResponse.newBuilder().setReady(readiness.isReady()).build());
  }

  @Override
  public void modelReady(ModelReadyRequest req, StreamObserver<ModelReadyResponse> obs) {
    GrpcErrors.unary(obs, () -> ModelReadyResponse.newBuilder()
        .setReady(registry.isReady(req.getName(), req.getVersion())).build());
  }

  @Override
  public void serverMetadata(ServerMetadataRequest req, StreamObserver<ServerMetadataResponse> obs) {
    GrpcErrors.unary(obs, () -> ServerMetadataResponse.newBuilder()
        .setName("pruneserve").setVersion(version).addAllExtensions(EXTENSIONS).build());
  }

  @Override
  public void modelMetadata(ModelMetadataRequest req, StreamObserver<ModelMetadataResponse> obs) {
    GrpcErrors.unary(obs, () -> ModelInfoWire.metadata(registry.describe(req.getName(), req.getVersion())));
  }

  @Override
  public void modelConfig(ModelConfigRequest req, StreamObserver<ModelConfigResponse> obs) {
    GrpcErrors.unary(obs, () -> ModelConfigResponse.newBuilder()
        .setConfig(ModelInfoWire.config(registry.describe(req.getName(), req.getVersion()))).build());
  }

  @Override
  public void modelInfer(ModelInferRequest req, StreamObserver<ModelInferResponse> obs) {
    GrpcErrors.unary(obs, () -> infer(req));
  }

  @Override
  public StreamObserver<ModelInferRequest> modelStreamInfer(StreamObserver<ModelStreamInferResponse> obs) {
    return new StreamObserver<>() {
      @Override
      public void onNext(ModelInferRequest req) {
        ModelStreamInferResponse.Builder r = ModelStreamInferResponse.newBuilder();
        java.util.Optional<String> undecodable = UndecodableRequests.error(req);
        if (undecodable.isPresent()) { // one bad message answers in-band; the stream stays open
          r.setErrorMessage(io.grpc.Status.Code.INVALID_ARGUMENT + ": " + undecodable.get());
        } else {
          try {
            r.setInferResponse(infer(req));
          } catch (RuntimeException e) {
            io.grpc.Status s = GrpcErrors.toStatus(e).getStatus();
            r.setErrorMessage(s.getCode() + ": " + s.getDescription());
          }
        }
        synchronized (obs) {
          obs.onNext(r.build());
        }
      }

      @Override
      public void onError(Throwable t) {
        // client went away; nothing is held between messages
      }

      @Override
      public void onCompleted() {
        synchronized (obs) {
          obs.onCompleted();
        }
      }
    };
  }

  @Override
  public void modelStatistics(ModelStatisticsRequest req, StreamObserver<ModelStatisticsResponse> obs) {
    GrpcErrors.unary(obs, () -> {
      ModelStatisticsResponse.Builder b = ModelStatisticsResponse.newBuilder();
      for (ModelRegistry.VersionStats s : registry.statistics(req.getName(), req.getVersion())) {
        b.addModelStats(ModelInfoWire.statistics(s.stats(), s.sizeBytes()));
      }
      return b.build();
    });
  }

  @Override
  public void repositoryIndex(RepositoryIndexRequest req, StreamObserver<RepositoryIndexResponse> obs) {
    GrpcErrors.unary(obs, () -> {
      checkRepository(req.getRepositoryName());
      RepositoryIndexResponse.Builder b = RepositoryIndexResponse.newBuilder();
      for (IndexEntry e : registry.index()) {
        if (!req.getReady() || e.state() == ModelState.READY) {
          b.addModels(RepositoryIndexResponse.ModelIndex.newBuilder().setName(e.name())
              .setVersion(e.version()).setState(e.state().name()).setReason(e.reason()));
        }
      }
      return b.build();
    });
  }

  @Override
  public void repositoryModelLoad(RepositoryModelLoadRequest req, StreamObserver<RepositoryModelLoadResponse> obs) {
    GrpcErrors.unary(obs, () -> {
      checkControl("load", req.getRepositoryName());
      for (String key : req.getParametersMap().keySet()) {
        throw ServingException.invalid("load parameter '" + key + "' is not supported; "
            + "put model files under the repository folder and load by name");
      }
      registry.load(req.getModelName());
      return RepositoryModelLoadResponse.getDefaultInstance();
    });
  }

  @Override
  public void repositoryModelUnload(
      RepositoryModelUnloadRequest req, StreamObserver<RepositoryModelUnloadResponse> obs) {
    GrpcErrors.unary(obs, () -> {
      checkControl("unload", req.getRepositoryName());
      for (String key : req.getParametersMap().keySet()) {
        if (!key.equals("unload_dependents")) {
          throw ServingException.invalid("unload parameter '" + key + "' is not supported");
        }
      }
      registry.unload(req.getModelName());
      return RepositoryModelUnloadResponse.getDefaultInstance();
    });
  }

  private ModelInferResponse infer(ModelInferRequest req) {
    List<String> outputs = req.getOutputsList().stream()
        .map(ModelInferRequest.InferRequestedOutputTensor::getName).toList();
    InferenceResult result = inference.infer(new InferenceRequest(
        req.getModelName(), req.getModelVersion(), TensorWire.inputs(req), outputs));
    ModelInferResponse.Builder b = ModelInferResponse.newBuilder()
        .setModelName(result.model()).setModelVersion(result.version()).setId(req.getId());
    result.outputs().forEach(t -> TensorWire.addOutput(b, t));
    return b.build();
  }

  private void checkControl(String what, String repository) {
    checkRepository(repository);
    if (config.repository().controlMode() == ServerConfig.ControlMode.NONE) {
      throw ServingException.precondition("explicit model " + what + " is disabled: the server runs with "
          + "pruneserve.repository.control-mode=none; restart it with control-mode=explicit");
    }
  }

  private void checkRepository(String name) {
    if (!name.isEmpty()) {
      throw ServingException.notFound("unknown repository '" + name
          + "'; pruneserve serves a single repository: leave repository_name empty");
    }
  }
}
