package dev.pruneserve.grpc;

import static dev.pruneserve.grpc.GrpcAssertions.assertStatus;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pruneserve.api.inference.GRPCInferenceServiceGrpc;
import dev.pruneserve.api.inference.ModelReadyRequest;
import dev.pruneserve.api.inference.RepositoryIndexRequest;
import dev.pruneserve.api.inference.RepositoryModelLoadRequest;
import dev.pruneserve.api.inference.RepositoryModelUnloadRequest;
import dev.pruneserve.api.v1.ListVariantsRequest;
import dev.pruneserve.api.v1.PruningGrpc;
import dev.pruneserve.api.v1.SetAliasRequest;
import dev.pruneserve.testing.TestRepositoryResource;
import io.grpc.Metadata;
import io.grpc.Status.Code;
import io.grpc.stub.MetadataUtils;
import io.quarkus.grpc.GrpcClient;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Bearer tokens over real gRPC: management calls (load/unload, alias switch, prune…) need a
 * management token (none → UNAUTHENTICATED, an inference token or a wrong one → PERMISSION_DENIED);
 * inference calls need an inference or management token; grpc.health.v1 stays open; with
 * protect-metrics, /q/metrics needs either kind of token too.
 */
@QuarkusTest
@WithTestResource(TestRepositoryResource.class)
@TestProfile(BearerAuthTest.Tokens.class)
class BearerAuthTest {
  static final Path ROTATING;

  static {
    try {
      ROTATING = Files.createTempDirectory("pruneserve-tokens").resolve("inference-tokens");
      Files.writeString(ROTATING, "rotating-1\n");
    } catch (java.io.IOException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  public static class Tokens implements QuarkusTestProfile {
    @Override
    public Map<String, String> getConfigOverrides() {
      return Map.of("pruneserve.security.management-tokens", "admin-1,admin-2",
          "pruneserve.security.inference-tokens", "reader",
          "pruneserve.security.inference-tokens-file", ROTATING.toString(),
          "pruneserve.security.protect-metrics", "true");
    }
  }

  @GrpcClient("inference") GRPCInferenceServiceGrpc.GRPCInferenceServiceBlockingStub stub;

  @GrpcClient("inference") PruningGrpc.PruningBlockingStub pruning;

  @GrpcClient("inference") grpc.health.v1.HealthGrpc.HealthBlockingStub health;

  private static <S extends io.grpc.stub.AbstractStub<S>> S as(S s, String token) {
    Metadata h = new Metadata();
    h.put(BearerAuth.AUTHORIZATION, "Bearer " + token);
    return s.withInterceptors(MetadataUtils.newAttachHeadersInterceptor(h));
  }

  @Test
  void managementCallsNeedAManagementToken() {
    RepositoryModelUnloadRequest unload = RepositoryModelUnloadRequest.newBuilder().setModelName("churn").build();
    assertStatus(Code.UNAUTHENTICATED, "authorization: Bearer", () -> stub.repositoryModelUnload(unload));
    assertStatus(Code.PERMISSION_DENIED, "not a management token", () -> as(stub, "reader").repositoryModelUnload(
        unload));
    assertStatus(Code.PERMISSION_DENIED, "not a management token", () -> as(stub, "admin-3").repositoryModelUnload(
        unload));
    as(stub, "admin-2").repositoryModelUnload(unload);
    as(stub, "admin-1").repositoryModelLoad(RepositoryModelLoadRequest.newBuilder().setModelName("churn").build());
    assertStatus(Code.UNAUTHENTICATED, "management call", () -> pruning.setAlias(SetAliasRequest.newBuilder()
        .setAlias("a").setTarget("mlp").build()));
    assertStatus(Code.PERMISSION_DENIED, "not a management token", () -> as(pruning, "reader").setAlias(
        SetAliasRequest.newBuilder().setAlias("a").setTarget("mlp").build()));
  }

  @Test
  void inferenceCallsNeedAnyToken() {
    ModelReadyRequest ready = ModelReadyRequest.newBuilder().setName("mlp").build();
    assertStatus(Code.UNAUTHENTICATED, "inference call", () -> stub.modelReady(ready));
    assertStatus(Code.PERMISSION_DENIED, "not an inference token", () -> as(stub, "wrong").modelReady(ready));
    assertTrue(as(stub, "reader").modelReady(ready).getReady());
    assertTrue(as(stub, "admin-1").modelReady(ready).getReady());
    as(stub, "reader").repositoryIndex(RepositoryIndexRequest.getDefaultInstance());
    as(pruning, "reader").listVariants(ListVariantsRequest.getDefaultInstance());
  }

  @Test
  void healthStaysOpen() {
    assertTrue(health.check(grpc.health.v1.HealthOuterClass.HealthCheckRequest.getDefaultInstance())
        .getStatus() == grpc.health.v1.HealthOuterClass.HealthCheckResponse.ServingStatus.SERVING);
  }

  @Test
  void tokenFileRotatesWithoutRestart() throws Exception {
    ModelReadyRequest ready = ModelReadyRequest.newBuilder().setName("mlp").build();
    assertTrue(as(stub, "rotating-1").modelReady(ready).getReady());
    assertTrue(as(stub, "reader").modelReady(ready).getReady(), "configured tokens stay beside the file's");
    Path next = ROTATING.resolveSibling("next");
    Files.writeString(next, "rotating-2\n");
    Files.move(next, ROTATING, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
        java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    assertStatus(Code.PERMISSION_DENIED, "not an inference token", () -> as(stub, "rotating-1").modelReady(ready));
    assertTrue(as(stub, "rotating-2").modelReady(ready).getReady());
  }

  @Test
  void protectedMetricsNeedAToken() throws Exception {
    int port = org.eclipse.microprofile.config.ConfigProvider.getConfig()
        .getOptionalValue("quarkus.http.test-port", Integer.class).orElse(8081);
    java.net.http.HttpClient http = java.net.http.HttpClient.newHttpClient();
    java.util.function.Function<String, Integer> get = token -> {
      java.net.http.HttpRequest.Builder r = java.net.http.HttpRequest
          .newBuilder(java.net.URI.create("http://localhost:" + port + "/q/metrics"));
      if (token != null) {
        r.header("Authorization", "Bearer " + token);
      }
      try {
        return http.send(r.build(), java.net.http.HttpResponse.BodyHandlers.discarding()).statusCode();
      } catch (java.io.IOException | InterruptedException e) {
        throw new IllegalStateException(e);
      }
    };
    org.junit.jupiter.api.Assertions.assertEquals(401, get.apply(null));
    org.junit.jupiter.api.Assertions.assertEquals(401, get.apply("wrong"));
    org.junit.jupiter.api.Assertions.assertEquals(200, get.apply("reader"));
    org.junit.jupiter.api.Assertions.assertEquals(200, get.apply("admin-1"));
  }

  /** The HTTP APIs take the same tokens: /v1 and /v2 need an inference or management token, health stays open. */
  @Test
  void httpRoutesTakeTheSameTokens() throws Exception {
    var none = dev.pruneserve.testing.Curl.get("/v1/models");
    org.junit.jupiter.api.Assertions.assertEquals(401, none.status());
    org.junit.jupiter.api.Assertions.assertEquals("authentication_error", none.json().at("/error/type").asText());
    org.junit.jupiter.api.Assertions.assertEquals(403,
        dev.pruneserve.testing.Curl.get("/v1/models", "Authorization: Bearer wrong").status());
    org.junit.jupiter.api.Assertions.assertEquals(200,
        dev.pruneserve.testing.Curl.get("/v1/models", "Authorization: Bearer reader").status());
    var v2 = dev.pruneserve.testing.Curl.post("/v2/models/mlp/infer", "{}");
    org.junit.jupiter.api.Assertions.assertEquals(401, v2.status());
    org.junit.jupiter.api.Assertions.assertTrue(v2.json().get("error").asText().contains("Authorization: Bearer"));
    org.junit.jupiter.api.Assertions.assertEquals(400,
        dev.pruneserve.testing.Curl.post("/v2/models/mlp/infer", "{}", "Authorization: Bearer admin-2").status());
    org.junit.jupiter.api.Assertions.assertEquals(200, dev.pruneserve.testing.Curl.get("/v2/health/ready").status());
    org.junit.jupiter.api.Assertions.assertEquals(200, dev.pruneserve.testing.Curl.get("/v2/health/live").status());
  }
}
