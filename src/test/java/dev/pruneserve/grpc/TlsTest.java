package dev.pruneserve.grpc;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pruneserve.api.inference.GRPCInferenceServiceGrpc;
import dev.pruneserve.api.inference.ServerReadyRequest;
import dev.pruneserve.testing.ClientRuns;
import dev.pruneserve.testing.TestPorts;
import dev.pruneserve.testing.TestRepositoryResource;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Status.Code;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.NettyChannelBuilder;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * TLS on the gRPC port with a certificate generated inside the test (JDK keytool, PKCS12, CN and
 * SAN localhost): a client trusting that certificate is served; a plaintext client is not.
 */
@QuarkusTest
@WithTestResource(TestRepositoryResource.class)
@TestProfile(TlsTest.Tls.class)
class TlsTest {
  static final Path DIR;
  static final Path KEYSTORE;
  static final Path CERT;

  static {
    try {
      DIR = Files.createTempDirectory("pruneserve-tls");
      KEYSTORE = DIR.resolve("server.p12");
      CERT = DIR.resolve("server.pem");
      String keytool = Path.of(System.getProperty("java.home"), "bin", "keytool").toString();
      ClientRuns.run(List.of(keytool, "-genkeypair", "-alias", "server", "-keyalg", "RSA", "-keysize", "2048",
          "-dname", "CN=localhost", "-ext", "SAN=dns:localhost,ip:127.0.0.1", "-validity", "2", "-storetype",
          "PKCS12", "-keystore", KEYSTORE.toString(), "-storepass", "changeit", "-keypass", "changeit"), Map.of());
      ClientRuns.run(List.of(keytool, "-exportcert", "-rfc", "-alias", "server", "-keystore", KEYSTORE.toString(),
          "-storepass", "changeit", "-file", CERT.toString()), Map.of());
    } catch (Exception e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  public static class Tls implements QuarkusTestProfile {
    @Override
    public Map<String, String> getConfigOverrides() {
      return Map.of("quarkus.grpc.server.ssl.key-store", KEYSTORE.toString(),
          "quarkus.grpc.server.ssl.key-store-type", "PKCS12",
          "quarkus.grpc.server.ssl.key-store-password", "changeit",
          "quarkus.grpc.server.plain-text", "false");
    }
  }

  @Test
  void servesTlsAndRefusesPlaintext() throws Exception {
    ManagedChannel tls = NettyChannelBuilder.forAddress("localhost", TestPorts.grpc())
        .sslContext(GrpcSslContexts.forClient().trustManager(CERT.toFile()).build()).build();
    ManagedChannel plain = ManagedChannelBuilder.forAddress("localhost", TestPorts.grpc()).usePlaintext().build();
    try {
      assertTrue(GRPCInferenceServiceGrpc.newBlockingStub(tls).serverReady(ServerReadyRequest.getDefaultInstance())
          .getReady());
      StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> GRPCInferenceServiceGrpc
          .newBlockingStub(plain).withDeadlineAfter(10, TimeUnit.SECONDS)
          .serverReady(ServerReadyRequest.getDefaultInstance()));
      assertTrue(List.of(Code.UNAVAILABLE, Code.INTERNAL).contains(e.getStatus().getCode()), e.getStatus().toString());
    } finally {
      tls.shutdownNow();
      plain.shutdownNow();
    }
  }
}
