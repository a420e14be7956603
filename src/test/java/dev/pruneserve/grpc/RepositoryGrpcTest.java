package dev.pruneserve.grpc;

import static dev.pruneserve.grpc.GrpcAssertions.assertStatus;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pruneserve.api.inference.*;
import dev.pruneserve.testing.Requests;
import dev.pruneserve.testing.TestRepositoryResource;
import grpc.health.v1.HealthGrpc;
import grpc.health.v1.HealthOuterClass.HealthCheckRequest;
import grpc.health.v1.HealthOuterClass.HealthCheckResponse;
import io.grpc.Status.Code;
import io.quarkus.grpc.GrpcClient;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** RepositoryIndex / Load / Unload, health, and the state each leaves behind. */
@QuarkusTest
@WithTestResource(TestRepositoryResource.class)
class RepositoryGrpcTest {
  @GrpcClient("inference") GRPCInferenceServiceGrpc.GRPCInferenceServiceBlockingStub stub;

  @GrpcClient("inference") HealthGrpc.HealthBlockingStub health;

  @jakarta.inject.Inject dev.pruneserve.repository.ModelRepository repository;

  @GrpcClient("inference") io.grpc.Channel channel;

  @Test
  void indexReportsEveryVersionWithStateAndReason() {
    Map<String, RepositoryIndexResponse.ModelIndex> rows = index(false);
    assertEquals("READY", rows.get("mlp/1").getState());
    assertEquals("READY", rows.get("mlp/3").getState());
    assertEquals("UNAVAILABLE", rows.get("broken/").getState());
    assertTrue(rows.get("broken/").getReason().contains("load failed"), rows.get("broken/").getReason());
    assertFalse(index(true).containsKey("broken/"));
    assertStatus(Code.NOT_FOUND, "unknown repository 'other'", () -> stub.repositoryIndex(
        RepositoryIndexRequest.newBuilder().setRepositoryName("other").build()));
  }

  @Test
  void unloadThenLoadAgain() {
    stub.repositoryModelUnload(RepositoryModelUnloadRequest.newBuilder().setModelName("identity")
        .putParameters("unload_dependents", ModelRepositoryParameter.newBuilder().setBoolParam(true).build()).build());
    assertFalse(ready("identity"));
    assertEquals("UNAVAILABLE", index(false).get("identity/").getState());
    assertEquals("unloaded", index(false).get("identity/").getReason());
    assertStatus(Code.UNAVAILABLE, "not ready", () -> stub.modelMetadata(
        ModelMetadataRequest.newBuilder().setName("identity").build()));
    // unloading twice is harmless
    stub.repositoryModelUnload(RepositoryModelUnloadRequest.newBuilder().setModelName("identity").build());
    stub.repositoryModelLoad(RepositoryModelLoadRequest.newBuilder().setModelName("identity").build());
    assertTrue(ready("identity"));
  }

  @Test
  void reloadKeepsServingAndFailedLoadKeepsState() {
    stub.repositoryModelLoad(RepositoryModelLoadRequest.newBuilder().setModelName("mlp").build());
    assertEquals(2, stub.modelMetadata(ModelMetadataRequest.newBuilder().setName("mlp").build()).getVersionsCount());
    stub.modelInfer(Requests.mlp("mlp", 1, 16).build());
    assertStatus(Code.FAILED_PRECONDITION, "Protobuf parsing failed", () -> stub.repositoryModelLoad(
        RepositoryModelLoadRequest.newBuilder().setModelName("broken").build()));
    assertEquals("UNAVAILABLE", index(false).get("broken/").getState());
  }

  @Test
  void failedReloadKeepsTheOldVersionServing() throws Exception {
    java.nio.file.Path file = repository.modelDir("flaky").resolve("1/model.onnx");
    byte[] good = java.nio.file.Files.readAllBytes(file);
    java.nio.file.Files.writeString(file, "corrupted on disk");
    try {
      assertStatus(Code.FAILED_PRECONDITION, "cannot load flaky/1", () -> stub.repositoryModelLoad(
          RepositoryModelLoadRequest.newBuilder().setModelName("flaky").build()));
      assertEquals(4, Requests.fp32Output(stub.modelInfer(Requests.mlp("flaky", 1, 16).build()), 0).length);
      RepositoryIndexResponse.ModelIndex row = index(false).get("flaky/1");
      assertEquals("READY", row.getState());
      assertTrue(row.getReason().startsWith("reload failed, still serving"), row.getReason());
    } finally {
      java.nio.file.Files.write(file, good);
    }
    stub.repositoryModelLoad(RepositoryModelLoadRequest.newBuilder().setModelName("flaky").build());
    assertEquals("", index(false).get("flaky/1").getReason());
  }

  @Test
  void loadErrors() {
    assertStatus(Code.NOT_FOUND, "not in the repository", () -> stub.repositoryModelLoad(
        RepositoryModelLoadRequest.newBuilder().setModelName("ghost").build()));
    assertStatus(Code.INVALID_ARGUMENT, "invalid model name", () -> stub.repositoryModelLoad(
        RepositoryModelLoadRequest.newBuilder().setModelName("../../etc").build()));
    assertStatus(Code.INVALID_ARGUMENT, "model name is required", () -> stub.repositoryModelLoad(
        RepositoryModelLoadRequest.getDefaultInstance()));
    assertStatus(Code.INVALID_ARGUMENT, "load parameter 'config' is not supported", () -> stub.repositoryModelLoad(
        RepositoryModelLoadRequest.newBuilder().setModelName("mlp").putParameters("config",
            ModelRepositoryParameter.newBuilder().setStringParam("{}").build()).build()));
    assertStatus(Code.NOT_FOUND, "unknown repository", () -> stub.repositoryModelUnload(
        RepositoryModelUnloadRequest.newBuilder().setRepositoryName("x").setModelName("mlp").build()));
    assertStatus(Code.NOT_FOUND, "not in the repository", () -> stub.repositoryModelUnload(
        RepositoryModelUnloadRequest.newBuilder().setModelName("ghost").build()));
    assertTrue(ready("mlp"));
  }

  @Test
  void grpcHealthServes() {
    assertEquals(HealthCheckResponse.ServingStatus.SERVING,
        health.check(HealthCheckRequest.getDefaultInstance()).getStatus());
  }

  @Test
  void reflectionListsOurServices() throws Exception {
    java.util.concurrent.CompletableFuture<io.grpc.reflection.v1.ServerReflectionResponse> answer = new java.util.concurrent.CompletableFuture<>();
    var call = io.grpc.reflection.v1.ServerReflectionGrpc.newStub(channel)
        .serverReflectionInfo(new io.grpc.stub.StreamObserver<>() {
          @Override
          public void onNext(io.grpc.reflection.v1.ServerReflectionResponse r) {
            answer.complete(r);
          }

          @Override
          public void onError(Throwable t) {
            answer.completeExceptionally(t);
          }

          @Override
          public void onCompleted() {}
        });
    call.onNext(io.grpc.reflection.v1.ServerReflectionRequest.newBuilder().setListServices("").build());
    List<String> services = answer.get(10, java.util.concurrent.TimeUnit.SECONDS).getListServicesResponse()
        .getServiceList().stream().map(io.grpc.reflection.v1.ServiceResponse::getName).toList();
    call.onCompleted();
    assertTrue(services.contains("inference.GRPCInferenceService"), services.toString());
    assertTrue(services.contains("grpc.health.v1.Health"), services.toString());
  }

  private boolean ready(String name) {
    return stub.modelReady(ModelReadyRequest.newBuilder().setName(name).build()).getReady();
  }

  private Map<String, RepositoryIndexResponse.ModelIndex> index(boolean readyOnly) {
    List<RepositoryIndexResponse.ModelIndex> rows = stub
        .repositoryIndex(RepositoryIndexRequest.newBuilder().setReady(readyOnly).build()).getModelsList();
    return rows.stream().collect(Collectors.toMap(r -> r.getName() + "/" + r.getVersion(), r -> r));
  }
}
