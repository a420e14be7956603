package dev.pruneserve.http;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.pruneserve.api.inference.GRPCInferenceServiceGrpc;
import dev.pruneserve.api.inference.ModelReadyRequest;
import dev.pruneserve.api.v1.ChatMessage;
import dev.pruneserve.api.v1.EmbedRequest;
import dev.pruneserve.api.v1.EmbedResponse;
import dev.pruneserve.api.v1.EmbeddingGrpc;
import dev.pruneserve.api.v1.GenerateRequest;
import dev.pruneserve.api.v1.GenerateResult;
import dev.pruneserve.api.v1.GenerationGrpc;
import dev.pruneserve.api.v1.PruneEvent;
import dev.pruneserve.api.v1.PruneRequest;
import dev.pruneserve.api.v1.PruningGrpc;
import dev.pruneserve.api.v1.SamplingParams;
import dev.pruneserve.api.v1.SetAliasRequest;
import dev.pruneserve.testing.ClientRuns;
import dev.pruneserve.testing.Curl;
import dev.pruneserve.testing.Fixtures;
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
 * The unmodified OpenAI Node.js SDK (npm {@code openai}, pinned in {@code clients/openai-node})
 * against the test server: completions (greedy, seeded, streamed), chat with the model's template
 * (whole and streamed), embeddings (the SDK's base64 default and floats), the model list with a
 * pruned variant behind an alias, an abandoned stream, and errors — every answer compared with the
 * gRPC answer to the same request (same seed → same text, same texts → the same vectors, the same
 * limit messages).
 */
@QuarkusTest
@WithTestResource(TestRepositoryResource.class)
class OpenAiSdkTest {
  private static final Path SDK = Path.of("clients/openai-node/node_modules/openai/package.json");

  @GrpcClient("inference") GRPCInferenceServiceGrpc.GRPCInferenceServiceBlockingStub inference;
  @GrpcClient("inference") GenerationGrpc.GenerationBlockingStub generation;
  @GrpcClient("inference") EmbeddingGrpc.EmbeddingBlockingStub embedding;
  @GrpcClient("inference") PruningGrpc.PruningBlockingStub pruning;

  @Test
  void sdkAnswersMatchGrpc() throws Exception {
    ClientRuns.requireTools(Files.isRegularFile(SDK), "the OpenAI SDK check needs node >= 18 and `npm ci` in"
        + " clients/openai-node (the build's clients/install-deps.sh does it)");
    for (String m : List.of("stories15m", "stories15m-hf", "minilm")) {
      Fixtures.requireLoaded(m, inference.modelReady(ModelReadyRequest.newBuilder().setName(m).build()).getReady());
    }
    List<PruneEvent> events = new ArrayList<>();
    pruning.prune(PruneRequest.newBuilder().setModel("stories15m").setMethod("magnitude-l1").setRatio(0.25).build())
        .forEachRemaining(events::add);
    String variant = events.get(events.size() - 1).getDone().getName();
    pruning.setAlias(SetAliasRequest.newBuilder().setAlias("openai-alias").setTarget(variant).build());
    double cancelledBefore = cancelled();

    JsonNode out = JsonBody.JSON.readTree(ClientRuns.run(List.of("node", "clients/openai-node/sdk-check.mjs",
        "--base-url", "http://localhost:" + TestPorts.http() + "/v1", "--alias", "openai-alias"), Map.of()));

    GenerateResult greedy = unary("stories15m", "Once upon a time", 20, 0, null);
    assertEquals(greedy.getText(), out.at("/greedy/text").asText());
    assertEquals("length", out.at("/greedy/finish_reason").asText());
    assertEquals("text_completion", out.at("/greedy/object").asText());
    assertEquals(greedy.getSummary().getPromptTokens(), out.at("/greedy/usage/prompt_tokens").asInt());
    assertEquals(20, out.at("/greedy/usage/completion_tokens").asInt());

    String seeded = unary("stories15m", "Once upon a time", 16, 0.8f, 7L).getText();
    assertEquals(seeded, out.get("seeded").asText());
    assertEquals(seeded, out.at("/seededStream/text").asText());
    assertEquals("[\"length\"]", out.at("/seededStream/reasons").toString());
    assertEquals(16, out.at("/seededStream/usage/completion_tokens").asInt());

    GenerateResult chat = generation.generateUnary(GenerateRequest.newBuilder().setModel("stories15m-hf")
        .addMessages(ChatMessage.newBuilder().setRole("user").setContent("Tell me a story."))
        .setParams(SamplingParams.newBuilder().setMaxNewTokens(12)).build());
    assertEquals(chat.getText(), out.at("/chat/text").asText());
    assertEquals("assistant", out.at("/chat/role").asText());
    assertEquals("chat.completion", out.at("/chat/object").asText());
    assertEquals(chat.getText(), out.at("/chatStream/text").asText());
    assertEquals("[\"assistant\"]", out.at("/chatStream/roles").toString());
    assertEquals("[\"" + out.at("/chat/finish_reason").asText() + "\"]", out.at("/chatStream/reasons").toString());

    EmbedResponse vectors = embedding.embed(EmbedRequest.newBuilder().setModel("minilm")
        .addTexts("a cat sat on the mat").addTexts("stock markets fell today").build());
    for (int i = 0; i < 2; i++) {
      assertArrayEquals(floats(vectors.getEmbeddings(i).getValuesList()),
          KserveRestTest.floats(out.get("embeddings").get(i)), 0f);
    }
    assertArrayEquals(floats(vectors.getEmbeddings(0).getValuesList()),
        KserveRestTest.floats(out.get("embeddingsFloat").get(0)),
        0f);

    assertEquals(unary(variant, "Once upon a time", 8, 0, null).getText(), out.at("/alias/text").asText());
    assertEquals("openai-alias", out.at("/alias/model").asText());
    assertTrue(out.at("/alias/fingerprint").asText().startsWith(variant + "/"), out.get("alias").toString());
    String models = out.get("models").toString();
    assertTrue(models.contains("{\"id\":\"stories15m\",\"kind\":\"model\",\"root\":null,\"parent\":null}"), models);
    assertTrue(models.contains("{\"id\":\"" + variant + "\",\"kind\":\"variant\",\"root\":null,\"parent\":"
        + "\"stories15m\"}"), models);
    assertTrue(models.contains("{\"id\":\"openai-alias\",\"kind\":\"alias\",\"root\":\"" + variant
        + "\",\"parent\":null}"), models);

    JsonNode e = out.get("errors");
    assertEquals(404, e.at("/unknownModel/status").asInt());
    assertEquals("model_not_found", e.at("/unknownModel/code").asText());
    assertEquals("NotFoundError", e.at("/unknownModel/name").asText());
    assertEquals(404, e.at("/unknownModelStream/status").asInt());
    assertEquals(400, e.at("/twoChoices/status").asInt());
    assertTrue(e.at("/twoChoices/message").asText().startsWith("'n' must be 1"), e.toString());
    assertEquals(400, e.at("/noChatTemplate/status").asInt());
    assertTrue(e.at("/noChatTemplate/message").asText().contains("has no chat template"), e.toString());
    assertEquals(400, e.at("/tooManyTokens/status").asInt());
    assertEquals(KserveRestTest.grpcMessage(() -> unary("stories15m", "x", 1000000, 1, null)),
        e.at("/tooManyTokens/message").asText());
    assertEquals(400, e.at("/notAnEncoder/status").asInt());
    assertTrue(e.at("/notAnEncoder/message").asText().contains("is not an encoder"), e.toString());
    assertEquals(KserveRestTest.grpcMessage(() -> unary("stories15m", "x", 16, -1, null)),
        e.at("/badTemperature/message").asText());

    // The abandoned 200-token stream ends as cancelled, not at its length.
    assertEquals(3, out.get("abortedAfter").asInt());
    long deadline = System.nanoTime() + 60_000_000_000L;
    while (cancelled() <= cancelledBefore && System.nanoTime() < deadline) {
      Thread.sleep(50);
    }
    assertTrue(cancelled() > cancelledBefore, "the server did not cancel the abandoned stream");
    String metrics = Curl.get("/q/metrics").text();
    assertTrue(metrics.contains("uri=\"/v1/completions\""), "no per-route HTTP metrics");
    assertTrue(metrics.contains("uri=\"/v1/embeddings\""), "no per-route HTTP metrics");
  }

  private GenerateResult unary(String model, String prompt, int max, float temperature, Long seed) {
    SamplingParams.Builder p = SamplingParams.newBuilder().setMaxNewTokens(max).setTemperature(temperature);
    if (seed != null) {
      p.setSeed(seed);
    }
    return generation.generateUnary(GenerateRequest.newBuilder().setModel(model).setPrompt(prompt).setParams(p)
        .build());
  }

  private static double cancelled() throws Exception {
    double n = 0;
    for (String line : Curl.get("/q/metrics").text().split("\n")) {
      if (line.startsWith("pruneserve_generation_requests_total{") && line.contains("finish_reason=\"cancelled\"")
          && line.contains("model=\"stories15m\"")) {
        n += Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
      }
    }
    return n;
  }

  private static float[] floats(List<Float> v) {
    float[] out = new float[v.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = v.get(i);
    }
    return out;
  }
}
