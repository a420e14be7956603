package dev.pruneserve.testing;

import org.eclipse.microprofile.config.Config;
import org.eclipse.microprofile.config.ConfigProvider;

/** The port the gRPC server listens on in tests, for clients that are not Quarkus-injected. */
public final class TestPorts {
  private TestPorts() {}

  /** The HTTP port of the test server (the /v1 and /v2 REST routes, /q/metrics). */
  public static int http() {
    return ConfigProvider.getConfig().getOptionalValue("quarkus.http.test-port", Integer.class).orElse(8081);
  }

  public static int grpc() {
    Config c = ConfigProvider.getConfig();
    boolean separate = c.getOptionalValue("quarkus.grpc.server.use-separate-server", Boolean.class).orElse(true);
    return separate
        ? c.getOptionalValue("quarkus.grpc.server.test-port", Integer.class).orElse(9001)
        : c.getOptionalValue("quarkus.http.test-port", Integer.class).orElse(8081);
  }
}
