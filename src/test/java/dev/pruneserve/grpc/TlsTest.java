package dev.pruneserve.grpc;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pruneserve.api.inference.GRPCInferenceServiceGrpc;
import dev.pruneserve.api.inference.ServerReadyRequest;
import dev.pruneserve.testing.TestCerts;
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
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * TLS on the gRPC port with a certificate generated inside the test ({@link TestCerts}): a client
 * trusting that certificate is served; a plaintext client is not.
 */
@QuarkusTest
@WithTestResource(TestRepositoryResource.class)
@TestProfile(TlsTest.Tls.class)
class TlsTest {
  static final TestCerts.Identity SERVER;

  static {
    try {
      SERVER = TestCerts.selfSigned(Files.createTempDirectory("pruneserve-tls"), "server");
    } catch (Exception e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  public static class Tls implements QuarkusTestProfile {
    @Override
    public Map<String, String> getConfigOverrides() {
      return Map.of("quarkus.grpc.server.ssl.key-store", SERVER.keyStore().toString(),
          "quarkus.grpc.server.ssl.key-store-type", "PKCS12",
          "quarkus.grpc.server.ssl.key-store-password", TestCerts.PASSWORD,
          "quarkus.grpc.server.plain-text", "false");
    }
  }

  @Test
  void servesTlsAndRefusesPlaintext() throws Exception {
    ManagedChannel tls = NettyChannelBuilder.forAddress("localhost", TestPorts.grpc())
        .sslContext(GrpcSslContexts.forClient().trustManager(SERVER.certificate().toFile()).build()).build();
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
