package dev.pruneserve.grpc;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pruneserve.api.inference.GRPCInferenceServiceGrpc;
import dev.pruneserve.api.inference.ServerReadyRequest;
import dev.pruneserve.testing.TestCerts;
import dev.pruneserve.testing.TestPorts;
import dev.pruneserve.testing.TestRepositoryResource;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.NettyChannelBuilder;
import io.netty.handler.ssl.SslContextBuilder;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Mutual TLS on the gRPC port: the server trusts one client certificate (its trust store); a client
 * presenting it is served; a client presenting no certificate, or another self-signed one, is refused
 * during the handshake, before any call reaches the server.
 */
@QuarkusTest
@WithTestResource(TestRepositoryResource.class)
@TestProfile(MutualTlsTest.Mtls.class)
class MutualTlsTest {
  static final TestCerts.Identity SERVER;
  static final TestCerts.Identity CLIENT;
  static final TestCerts.Identity STRANGER;
  static final Path TRUSTED_CLIENTS;

  static {
    try {
      Path dir = Files.createTempDirectory("pruneserve-mtls");
      SERVER = TestCerts.selfSigned(dir, "server");
      CLIENT = TestCerts.selfSigned(dir, "client");
      STRANGER = TestCerts.selfSigned(dir, "stranger");
      TRUSTED_CLIENTS = TestCerts.trustStore(dir, "clients", CLIENT);
    } catch (Exception e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  public static class Mtls implements QuarkusTestProfile {
    @Override
    public Map<String, String> getConfigOverrides() {
      return Map.of("quarkus.grpc.server.ssl.key-store", SERVER.keyStore().toString(),
          "quarkus.grpc.server.ssl.key-store-password", TestCerts.PASSWORD,
          "quarkus.grpc.server.ssl.trust-store", TRUSTED_CLIENTS.toString(),
          "quarkus.grpc.server.ssl.trust-store-password", TestCerts.PASSWORD,
          "quarkus.grpc.server.ssl.client-auth", "REQUIRED",
          "quarkus.grpc.server.plain-text", "false");
    }
  }

  @Test
  void servesTrustedClientCertificateOnly() throws Exception {
    assertTrue(ready(channel(CLIENT)));
    for (TestCerts.Identity refused : new TestCerts.Identity[] {null, STRANGER}) {
      StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> ready(channel(refused)),
          refused == null ? "no client certificate" : "untrusted client certificate");
      assertTrue(e.getStatus().getCode() == io.grpc.Status.Code.UNAVAILABLE, e.getStatus().toString());
    }
  }

  /** A TLS channel trusting the server, presenting {@code client}'s certificate (none when null). */
  private static ManagedChannel channel(TestCerts.Identity client) throws Exception {
    SslContextBuilder ssl = GrpcSslContexts.forClient().trustManager(SERVER.certificate().toFile());
    if (client != null) {
      ssl.keyManager(client.keyManagers());
    }
    return NettyChannelBuilder.forAddress("localhost", TestPorts.grpc()).sslContext(ssl.build()).build();
  }

  private static boolean ready(ManagedChannel channel) {
    try {
      return GRPCInferenceServiceGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS)
          .serverReady(ServerReadyRequest.getDefaultInstance()).getReady();
    } finally {
      channel.shutdownNow();
    }
  }
}
