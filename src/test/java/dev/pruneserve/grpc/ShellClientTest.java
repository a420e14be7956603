package dev.pruneserve.grpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pruneserve.api.inference.GRPCInferenceServiceGrpc;
import dev.pruneserve.api.inference.ModelReadyRequest;
import dev.pruneserve.testing.ClientRuns;
import dev.pruneserve.testing.TestPorts;
import dev.pruneserve.testing.TestRepositoryResource;
import io.quarkus.grpc.GrpcClient;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The {@code clients/shell} scripts ({@code buf curl} over server reflection) against the server
 * of this test run: RPC listing, infer, alias, variants, streaming generate and prune. Skipped with
 * a message without {@code npm ci} in clients/shell; in CI ({@code CI} set) that fails.
 */
@QuarkusTest
@WithTestResource(TestRepositoryResource.class)
class ShellClientTest {
  @GrpcClient("inference") GRPCInferenceServiceGrpc.GRPCInferenceServiceBlockingStub inference;

  @Test
  void scriptsCallTheServer() throws Exception {
    requireTools();
    assertTrue(run("call.sh", "--list").contains("pruneserve.v1.Pruning/Prune"));
    String values = "[0,0.01,0.02,0.03,0.04,0.05,0.06,0.07,0.08,0.09,0.1,0.11,0.12,0.13,0.14,0.15]";
    JsonNode out = new ObjectMapper().readTree(run("infer.sh", "mlp", "x", "[1,16]", values));
    assertEquals("mlp", out.get("modelName").asText());
    assertEquals("[\"1\",\"4\"]", out.get("outputs").get(0).get("shape").toString());
    assertTrue(run("alias.sh", "shell-alias", "mlp").contains("\"target\": \"mlp\""));
    run("variants.sh"); // an empty list is "{}" in JSON: the call itself must succeed
  }

  @Test
  void streamingGenerateAndPrune() throws Exception {
    requireTools();
    dev.pruneserve.testing.Fixtures.requireLoaded("stories15m", inference.modelReady(ModelReadyRequest.newBuilder()
        .setName("stories15m").build()).getReady());
    String gen = run("generate.sh", "stories15m", "Once upon a time", "6", "2");
    assertEquals(6, gen.split("\"token\"", -1).length - 1, gen);
    assertTrue(gen.contains("FINISH_REASON_LENGTH"), gen);
    String pruned = run("prune.sh", "stories15m", "magnitude-l2", "0.35");
    assertTrue(pruned.contains("\"progress\"") && pruned.contains("\"done\""), pruned);
    assertTrue(run("variants.sh", "stories15m").contains("stories15m@magnitude-l2-p35-"));
  }

  private static String run(String script, String... args) throws Exception {
    List<String> cmd = new ArrayList<>(List.of("clients/shell/" + script));
    cmd.addAll(List.of(args));
    return ClientRuns.run(cmd, Map.of("PRUNESERVE_TARGET", "localhost:" + TestPorts.grpc()));
  }

  private static void requireTools() {
    ClientRuns.requireTools(Files.isExecutable(Path.of("clients/shell/node_modules/.bin/buf")),
        "shell client test needs `npm ci` in clients/shell (.ci/run does it)");
  }
}
