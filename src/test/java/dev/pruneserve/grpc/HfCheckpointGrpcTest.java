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
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Hugging Face folders copied into the repository as they are ({@code stories15m-hf}: stories15M
 * with tokenizer.json; {@code stories15m-gqa}: 6 query heads over 3 K/V heads): served through
 * Generate with tokenizer.json, and the GQA one pruned by every LLM method through the Prune RPC,
 * each variant served at once with fewer K/V heads.
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

  @ParameterizedTest
  @ValueSource(strings = {"magnitude-l2", "wanda-sp", "flap", "mini-llm", "forward-search", "taylor"})
  void everyLlmMethodPrunesTheGqaFolderAndTheVariantIsServed(String method) {
    assertTrue(inference.modelReady(ModelReadyRequest.newBuilder().setName("stories15m-gqa").build()).getReady());
    PruneRequest.Builder req = PruneRequest.newBuilder().setModel("stories15m-gqa").setMethod(method).setRatio(0.34)
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
