package dev.pruneserve.testing;

import org.eclipse.microprofile.config.Config;
import org.eclipse.microprofile.config.ConfigProvider;

/** The port the gRPC server listens on in tests, for clients that are not Quarkus-injected. */
public final class TestPorts {
  private TestPorts() {}

  public static int grpc() {
    Config c = ConfigProvider.getConfig();
    boolean separate = c.getOptionalValue("quarkus.grpc.server.use-separate-server", Boolean.class).orElse(true);
    return separate
        ? c.getOptionalValue("quarkus.grpc.server.test-port", Integer.class).orElse(9001)
        : c.getOptionalValue("quarkus.http.test-port", Integer.class).orElse(8081);
  }
}
