package dev.pruneserve.grpc;

import static dev.pruneserve.grpc.GrpcAssertions.assertStatus;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pruneserve.api.inference.GRPCInferenceServiceGrpc;
import dev.pruneserve.api.inference.ModelReadyRequest;
import dev.pruneserve.api.inference.RepositoryModelLoadRequest;
import dev.pruneserve.api.inference.RepositoryModelUnloadRequest;
import dev.pruneserve.testing.TestRepositoryResource;
import io.grpc.Status.Code;
import io.quarkus.grpc.GrpcClient;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** control-mode=none: everything is loaded at start (even with load-at-startup off); load/unload refused. */
@QuarkusTest
@WithTestResource(TestRepositoryResource.class)
@TestProfile(FixedRepositoryModeTest.NoneMode.class)
class FixedRepositoryModeTest {
  public static class NoneMode implements QuarkusTestProfile {
    @Override
    public Map<String, String> getConfigOverrides() {
      return Map.of("pruneserve.repository.control-mode", "none",
          "pruneserve.repository.load-at-startup", "false");
    }
  }

  @GrpcClient("inference") GRPCInferenceServiceGrpc.GRPCInferenceServiceBlockingStub stub;

  @Test
  void modelsLoadedAndControlRefused() {
    assertTrue(stub.modelReady(ModelReadyRequest.newBuilder().setName("mlp").build()).getReady());
    assertStatus(Code.FAILED_PRECONDITION, "control-mode=none", () -> stub.repositoryModelUnload(
        RepositoryModelUnloadRequest.newBuilder().setModelName("mlp").build()));
    assertStatus(Code.FAILED_PRECONDITION, "control-mode=none", () -> stub.repositoryModelLoad(
        RepositoryModelLoadRequest.newBuilder().setModelName("mlp").build()));
    assertTrue(stub.modelReady(ModelReadyRequest.newBuilder().setName("mlp").build()).getReady());
  }
}
