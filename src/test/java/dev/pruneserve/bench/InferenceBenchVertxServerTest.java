package dev.pruneserve.bench;

import dev.pruneserve.testing.TestRepositoryResource;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import java.util.Map;

/** The benchmark with the Vert.x gRPC server on the HTTP port (use-separate-server=false). */
@QuarkusTest
@WithTestResource(TestRepositoryResource.class)
@TestProfile(InferenceBenchVertxServerTest.Profile.class)
class InferenceBenchVertxServerTest extends InferenceBenchBase {
  public static class Profile implements QuarkusTestProfile {
    @Override
    public Map<String, String> getConfigOverrides() {
      return Map.of("quarkus.grpc.server.use-separate-server", "false", "pruneserve.ort.intra-op-threads", "1",
          "quarkus.http.initial-window-size", "1048576", "quarkus.http.http2-connection-window-size", "4194304");
    }
  }

  @Override
  String mode() {
    return "vertx-http";
  }
}
