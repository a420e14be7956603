package dev.pruneserve.grpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pruneserve.api.inference.GRPCInferenceServiceGrpc;
import dev.pruneserve.api.inference.ModelReadyRequest;
import dev.pruneserve.api.v1.CalibrationSpec;
import dev.pruneserve.api.v1.ChatMessage;
import dev.pruneserve.api.v1.GenerateRequest;
import dev.pruneserve.api.v1.GenerateResult;
import dev.pruneserve.api.v1.MiniLlmOptions;
import dev.pruneserve.api.v1.PruneEvent;
import dev.pruneserve.api.v1.PruneOptions;
import dev.pruneserve.api.v1.PruneRequest;
import dev.pruneserve.api.v1.PruningGrpc;
import dev.pruneserve.api.v1.SamplingParams;
import dev.pruneserve.api.v1.Variant;
import dev.pruneserve.testing.TestRepositoryResource;
import io.quarkus.grpc.GrpcClient;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Hugging Face folders copied into the repository as they are ({@code stories15m-hf}: stories15M
 * with tokenizer.json; {@code stories15m-gqa}: 6 query heads over 3 K/V heads): served through
 * Generate with tokenizer.json (prompt and chat messages), and the GQA one — as a folder and as a
 * third-party ONNX decoder ({@code stories15m-optimum}) — pruned by every LLM method through the
 * Prune RPC, each variant served at once.
 */
@QuarkusTest
@WithTestResource(TestRepositoryResource.class)
class HfCheckpointGrpcTest {
  private static final String STORY = "Once upon a time, there was a little girl named Lily. She loved to play outside.";

  @GrpcClient("inference") dev.pruneserve.api.v1.GenerationGrpc.GenerationBlockingStub gen;
  @GrpcClient("inference") PruningGrpc.PruningBlockingStub pruning;
  @GrpcClient("inference") GRPCInferenceServiceGrpc.GRPCInferenceServiceBlockingStub inference;

  @BeforeEach
  void requireModels() {
    dev.pruneserve.testing.Fixtures.requireLoaded("stories15m-hf",
        inference.modelReady(ModelReadyRequest.newBuilder().setName("stories15m-hf").build()).getReady());
  }

  @Test
  void theHfFolderGeneratesTheCanonicalContinuation() {
    GenerateResult r = gen.generateUnary(GenerateRequest.newBuilder().setModel("stories15m-hf")
        .setPrompt("Once upon a time").setParams(SamplingParams.newBuilder().setMaxNewTokens(20)).build());
    assertEquals(GenerationGrpcTest.GOLDEN, r.getTokenIdsList());
    assertTrue(
        r.getText().startsWith(", there was a little girl named Lily. She loved to play outside in the sunshine"),
        r.getText());
  }

  @Test
  void messagesAreRenderedWithTheChatTemplate() {
    GenerateRequest.Builder req = GenerateRequest.newBuilder().setModel("stories15m-hf")
        .addMessages(ChatMessage.newBuilder().setRole("system").setContent("ignored"))
        .addMessages(ChatMessage.newBuilder().setRole("user").setContent("Once upon a time"))
        .setParams(SamplingParams.newBuilder().setMaxNewTokens(20));
    assertEquals(GenerationGrpcTest.GOLDEN, gen.generateUnary(req.build()).getTokenIdsList(),
        "[BOS] + the user text, exactly what the prompt feeds");
    GrpcAssertions.assertStatus(io.grpc.Status.Code.INVALID_ARGUMENT, "not both",
        () -> gen.generateUnary(req.clone().setPrompt("x").build()));
    GrpcAssertions.assertStatus(io.grpc.Status.Code.INVALID_ARGUMENT, "only user turns",
        () -> gen.generateUnary(req.clone().addMessages(ChatMessage.newBuilder().setRole("assistant").setContent("a"))
            .build()));
    GrpcAssertions.assertStatus(io.grpc.Status.Code.INVALID_ARGUMENT, "messages[0].role",
        () -> gen.generateUnary(req.clone().clearMessages().addMessages(ChatMessage.newBuilder().setContent("a"))
            .build()));
    if (inference.modelReady(ModelReadyRequest.newBuilder().setName("stories15m").build()).getReady()) {
      GrpcAssertions.assertStatus(io.grpc.Status.Code.FAILED_PRECONDITION, "no chat template",
          () -> gen.generateUnary(req.clone().setModel("stories15m").build()));
    }
  }

  /** The third-party form generates what the imported GQA folder generates, from a prompt and from messages. */
  @Test
  void theThirdPartyDecoderServesPromptsAndMessages() {
    GenerateRequest.Builder req = GenerateRequest.newBuilder().setModel("stories15m-gqa").setPrompt("Once upon a time")
        .setParams(SamplingParams.newBuilder().setMaxNewTokens(12));
    List<Integer> want = gen.generateUnary(req.build()).getTokenIdsList();
    assertEquals(12, want.size());
    assertEquals(want, gen.generateUnary(req.clone().setModel("stories15m-optimum").build()).getTokenIdsList());
    assertEquals(want, gen.generateUnary(req.clone().setModel("stories15m-optimum").clearPrompt()
        .addMessages(ChatMessage.newBuilder().setRole("user").setContent("Once upon a time")).build())
        .getTokenIdsList());
  }

  @ParameterizedTest
  @CsvSource({"stories15m-gqa, magnitude-l2", "stories15m-gqa, wanda-sp", "stories15m-gqa, flap",
      "stories15m-gqa, mini-llm", "stories15m-gqa, forward-search", "stories15m-gqa, taylor",
      "stories15m-optimum, magnitude-l2", "stories15m-optimum, wanda-sp", "stories15m-optimum, flap",
      "stories15m-optimum, mini-llm", "stories15m-optimum, forward-search", "stories15m-optimum, taylor"})
  void everyLlmMethodPrunesTheGqaModelsAndTheVariantIsServed(String model, String method) {
    assertTrue(inference.modelReady(ModelReadyRequest.newBuilder().setName(model).build()).getReady());
    PruneRequest.Builder req = PruneRequest.newBuilder().setModel(model).setMethod(method).setRatio(0.34)
        .setCalibration(CalibrationSpec.newBuilder().addTexts(STORY).addTexts("The dog ran to the park."));
    if (method.equals("mini-llm")) {
      req.setOptions(PruneOptions.newBuilder().setMiniLlm(MiniLlmOptions.newBuilder().setQueries(2)));
    }
    List<PruneEvent> events = new ArrayList<>();
    pruning.prune(req.build()).forEachRemaining(events::add);
    Variant v = events.get(events.size() - 1).getDone();
    assertTrue(v.getParametersAfter() < v.getParametersBefore(), v.getReportJson());
    assertTrue(v.getReportJson().contains("\"heads_per_layer\""), v.getReportJson());
    GenerateResult r = gen
        .generateUnary(GenerateRequest.newBuilder().setModel(v.getName()).setPrompt("Once upon a time")
            .setParams(SamplingParams.newBuilder().setMaxNewTokens(6)).build());
    assertTrue(r.getSummary().getGeneratedTokens() > 0);
  }
}
