package dev.pruneserve.grpc;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pruneserve.testing.Reference;
import dev.pruneserve.testing.Requests;
import dev.pruneserve.testing.TestModels;
import dev.pruneserve.testing.TestPorts;
import dev.pruneserve.testing.TestRepositoryResource;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * The Python client of {@code clients/python} (Debian python3-grpcio, stubs generated from proto/
 * by protoc) calls ServerReady, ModelMetadata and ModelInfer against the server of this test run.
 * Skipped with a message when the Debian packages are missing on a developer machine; in CI
 * ({@code CI} set) a missing package fails the test instead.
 */
@QuarkusTest
@WithTestResource(TestRepositoryResource.class)
class PythonClientTest {
  private static final String PYTHON = "/usr/bin/python3";

  @Test
  void pythonClientGetsTheReferenceOutputs() throws Exception {
    requireTools();
    Path stubs = Files.createTempDirectory("pruneserve-py-stubs");
    run(List.of("clients/python/gen_stubs.sh", stubs.toString()), null);
    String out = run(List.of(PYTHON, "clients/python/infer.py", "--target", "localhost:" + TestPorts.grpc(),
        "--model", "mlp", "--batch", "2"), stubs);
    JsonNode json = new ObjectMapper().readTree(out);
    assertTrue(json.get("ready").asBoolean());
    assertEquals("onnxruntime_onnx", json.get("platform").asText());
    assertEquals("[\"1\",\"3\"]", json.get("versions").toString());
    assertEquals("py-1", json.get("id").asText());
    JsonNode y = json.get("outputs").get("y");
    assertEquals("[2,4]", y.get("shape").toString());
    float[] got = new float[y.get("data").size()];
    for (int i = 0; i < got.length; i++) {
      got[i] = (float) y.get("data").get(i).asDouble();
    }
    assertArrayEquals(Reference.mlp(TestModels.mlp(), Requests.ramp(2, 16), 2), got, 1e-5f);
  }

  private static void requireTools() throws Exception {
    boolean ok = Files.isExecutable(Path.of(PYTHON)) && Files.isExecutable(Path.of("/usr/bin/protoc"))
        && Files.isExecutable(Path.of("/usr/bin/grpc_python_plugin"))
        && new ProcessBuilder(PYTHON, "-c", "import grpc, google.protobuf").start().waitFor() == 0;
    String why = "Python client test needs Debian python3-grpcio, python3-protobuf, protobuf-compiler,"
        + " protobuf-compiler-grpc (.ci/run installs them)";
    if (!ok && System.getenv("CI") != null) {
      fail(why);
    }
    if (!ok) {
      System.err.println("SKIPPED: " + why);
    }
    Assumptions.assumeTrue(ok, why);
  }

  private static String run(List<String> cmd, Path stubs) throws IOException, InterruptedException {
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(false);
    if (stubs != null) {
      pb.environment().put("PRUNESERVE_PY_STUBS", stubs.toString());
    }
    Process p = pb.start();
    if (!p.waitFor(60, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      fail("timed out: " + cmd);
    }
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
    assertEquals(0, p.exitValue(), () -> cmd + " failed:\n" + out + err);
    return out;
  }
}
