package dev.pruneserve.bench;

import dev.pruneserve.testing.TestRepositoryResource;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import java.util.Map;

/** The benchmark with the separate grpc-java server (use-separate-server=true). */
@QuarkusTest
@WithTestResource(TestRepositoryResource.class)
@TestProfile(InferenceBenchSeparateServerTest.Profile.class)
class InferenceBenchSeparateServerTest extends InferenceBenchBase {
  public static class Profile implements QuarkusTestProfile {
    @Override
    public Map<String, String> getConfigOverrides() {
      return Map.of("quarkus.grpc.server.use-separate-server", "true", "pruneserve.ort.intra-op-threads", "1");
    }
  }

  @Override
  String mode() {
    return "separate-server";
  }
}
