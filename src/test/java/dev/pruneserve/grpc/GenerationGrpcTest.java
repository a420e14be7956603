package dev.pruneserve.grpc;

import static dev.pruneserve.grpc.GrpcAssertions.assertStatus;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pruneserve.api.inference.GRPCInferenceServiceGrpc;
import dev.pruneserve.api.inference.ModelReadyRequest;
import dev.pruneserve.api.v1.FinishReason;
import dev.pruneserve.api.v1.GenerateRequest;
import dev.pruneserve.api.v1.GenerateResponse;
import dev.pruneserve.api.v1.GenerateResult;
import dev.pruneserve.api.v1.GenerationGrpc;
import dev.pruneserve.api.v1.SamplingParams;
import dev.pruneserve.testing.TestRepositoryResource;
import io.grpc.Context;
import io.grpc.Status.Code;
import io.quarkus.grpc.GrpcClient;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** pruneserve.v1.Generation on the real stories15M, over gRPC. */
@QuarkusTest
@WithTestResource(TestRepositoryResource.class)
class GenerationGrpcTest {
  static final List<Integer> GOLDEN = List.of(29892, 727, 471, 263, 2217, 7826, 4257, 365, 2354, 29889, 2296,
      18012, 304, 1708, 5377, 297, 278, 6575, 845, 457);

  @GrpcClient("inference") GenerationGrpc.GenerationBlockingStub gen;

  @GrpcClient("inference") GRPCInferenceServiceGrpc.GRPCInferenceServiceBlockingStub inference;

  @BeforeEach
  void requireModel() {
    dev.pruneserve.testing.Fixtures.requireLoaded("stories15m",
        inference.modelReady(ModelReadyRequest.newBuilder().setName("stories15m").build()).getReady());
  }

  @Test
  void greedyStreamMatchesGoldenAndUnary() {
    GenerateRequest req = request("Once upon a time", SamplingParams.newBuilder().setMaxNewTokens(20).build());
    List<Integer> ids = new ArrayList<>();
    StringBuilder text = new StringBuilder();
    GenerateResponse last = null;
    for (Iterator<GenerateResponse> it = gen.generate(req); it.hasNext();) {
      last = it.next();
      if (last.hasToken()) {
        ids.add(last.getToken().getId());
        text.append(last.getToken().getText());
      }
    }
    assertEquals(GOLDEN, ids);
    var summary = last.getSummary();
    assertEquals(FinishReason.FINISH_REASON_LENGTH, summary.getFinishReason());
    assertEquals(5, summary.getPromptTokens());
    assertEquals(20, summary.getGeneratedTokens());
    assertTrue(summary.getTimeToFirstTokenMs() > 0 && summary.getTokensPerSecond() > 0);
    text.append(summary.getTrailingText());
    assertTrue(text.toString().startsWith(", there was a little girl named Lily. She loved to play outside"),
        text.toString());
    GenerateResult unary = gen.generateUnary(req);
    assertEquals(text.toString(), unary.getText());
    assertEquals(GOLDEN, unary.getTokenIdsList());
  }

  /** A variant made by the pruning engine loads like any model and generates text. */
  @Test
  void prunedVariantGenerates() {
    assertTrue(inference.modelReady(ModelReadyRequest.newBuilder().setName("stories15m-pruned").build()).getReady());
    GenerateResult r = gen.generateUnary(GenerateRequest.newBuilder().setModel("stories15m-pruned")
        .setPrompt("Once upon a time").setParams(SamplingParams.newBuilder().setMaxNewTokens(12).build()).build());
    assertTrue(r.getSummary().getGeneratedTokens() > 0);
    assertEquals("stories15m-pruned", r.getSummary().getModel());
    assertEquals(r.getSummary().getGeneratedTokens(), r.getTokenIdsCount());
    assertNotEquals(GOLDEN.subList(0, r.getTokenIdsCount()), r.getTokenIdsList(), "pruning changed nothing");
  }

  @Test
  void concurrentGenerationsShareTheSessionAndAgree() throws Exception {
    GenerateRequest req = request("Once upon a time", SamplingParams.newBuilder().setMaxNewTokens(20).build());
    java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(4);
    try {
      List<java.util.concurrent.Future<GenerateResult>> fs = new ArrayList<>();
      for (int i = 0; i < 4; i++) {
        fs.add(pool.submit(() -> gen.generateUnary(req)));
      }
      for (var f : fs) {
        assertEquals(GOLDEN, f.get(60, java.util.concurrent.TimeUnit.SECONDS).getTokenIdsList());
      }
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void sameSeedSameOutput() {
    SamplingParams.Builder p = SamplingParams.newBuilder().setMaxNewTokens(24).setTemperature(1.0f).setTopK(40)
        .setTopP(0.9f).setRepetitionPenalty(1.1f);
    GenerateResult a = gen.generateUnary(request("Once upon a time", p.setSeed(7).build()));
    GenerateResult b = gen.generateUnary(request("Once upon a time", p.setSeed(7).build()));
    GenerateResult c = gen.generateUnary(request("Once upon a time", p.setSeed(8).build()));
    assertEquals(a.getTokenIdsList(), b.getTokenIdsList());
    assertEquals(7, a.getSummary().getSeed());
    assertNotEquals(a.getTokenIdsList(), c.getTokenIdsList());
  }

  @Test
  void stopStringEndsBeforeIt() {
    GenerateRequest req = request("Once upon a time", SamplingParams.newBuilder().setMaxNewTokens(40)
        .addStop("Lily").build());
    StringBuilder streamed = new StringBuilder();
    GenerateResponse last = null;
    for (Iterator<GenerateResponse> it = gen.generate(req); it.hasNext();) {
      last = it.next();
      if (last.hasToken()) {
        streamed.append(last.getToken().getText());
      }
    }
    assertEquals(FinishReason.FINISH_REASON_STOP, last.getSummary().getFinishReason());
    assertEquals(", there was a little girl named ", streamed + last.getSummary().getTrailingText());
    assertFalse(streamed.toString().contains("Lil"), streamed.toString());
  }

  @Test
  void badRequestsGetPreciseStatuses() {
    assertStatus(Code.INVALID_ARGUMENT, "temperature", () -> gen.generateUnary(request("x",
        SamplingParams.newBuilder().setTemperature(-1).build())));
    assertStatus(Code.INVALID_ARGUMENT, "top_p must be in (0, 1]", () -> gen.generateUnary(request("x",
        SamplingParams.newBuilder().setTopP(1.5f).build())));
    assertStatus(Code.INVALID_ARGUMENT, "context of 256 tokens", () -> gen.generateUnary(request(
        "word ".repeat(300), SamplingParams.getDefaultInstance())));
    assertStatus(Code.NOT_FOUND, "unknown model", () -> gen.generateUnary(GenerateRequest.newBuilder()
        .setModel("ghost").setPrompt("x").build()));
    assertStatus(Code.INVALID_ARGUMENT, "pruneserve.limits.max-new-tokens", () -> gen.generateUnary(request("x",
        SamplingParams.newBuilder().setMaxNewTokens(5000).build())));
    assertStatus(Code.INVALID_ARGUMENT, "pruneserve.limits.max-prompt-bytes", () -> gen.generateUnary(request(
        "x".repeat(300_000), SamplingParams.getDefaultInstance())));
    assertStatus(Code.FAILED_PRECONDITION, "not a causal LM", () -> gen.generateUnary(GenerateRequest.newBuilder()
        .setModel("mlp").setPrompt("x").build()));
    assertStatus(Code.INVALID_ARGUMENT, "top_p", () -> {
      Iterator<GenerateResponse> it = gen.generate(request("x", SamplingParams.newBuilder().setTopP(-0.5f).build()));
      it.hasNext();
    });
  }

  @Test
  void clientCancelStopsTheGeneration() throws Exception {
    Context.CancellableContext ctx = Context.current().withCancellation();
    int received = ctx.call(() -> {
      Iterator<GenerateResponse> it = gen.generate(request("Once upon a time",
          SamplingParams.newBuilder().setMaxNewTokens(250).build()));
      int n = 0;
      while (it.hasNext() && n < 3) {
        it.next();
        n++;
      }
      ctx.cancel(null);
      return n;
    });
    assertEquals(3, received);
    // The server notices within one step: its finished-generation counter records a cancelled run
    // that produced far fewer than 250 tokens.
    double[] seen = MetricsScrape.waitFor("pruneserve_generation_requests_total", "finish_reason=\"cancelled\"", 1);
    assertTrue(seen[0] >= 1);
  }

  private static GenerateRequest request(String prompt, SamplingParams p) {
    return GenerateRequest.newBuilder().setModel("stories15m").setPrompt(prompt).setParams(p).build();
  }
}
