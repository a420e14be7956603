package dev.pruneserve.grpc;

import static dev.pruneserve.grpc.GrpcAssertions.assertStatus;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pruneserve.api.inference.GRPCInferenceServiceGrpc;
import dev.pruneserve.api.inference.ModelInferRequest;
import dev.pruneserve.api.inference.ModelInferResponse;
import dev.pruneserve.api.inference.ModelReadyRequest;
import dev.pruneserve.api.v1.EmbedRequest;
import dev.pruneserve.api.v1.EmbedResponse;
import dev.pruneserve.api.v1.EmbeddingGrpc;
import dev.pruneserve.testing.TestRepositoryResource;
import io.grpc.Status.Code;
import io.quarkus.grpc.GrpcClient;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** all-MiniLM-L6-v2 through Embed (mean-pooled, normalised) and as-is through ModelInfer. */
@QuarkusTest
@WithTestResource(TestRepositoryResource.class)
class EmbeddingGrpcTest {
  @GrpcClient("inference") EmbeddingGrpc.EmbeddingBlockingStub embed;

  @GrpcClient("inference") GRPCInferenceServiceGrpc.GRPCInferenceServiceBlockingStub inference;
  @GrpcClient("inference") dev.pruneserve.api.v1.PruningGrpc.PruningBlockingStub pruning;

  @BeforeEach
  void requireModel() {
    dev.pruneserve.testing.Fixtures.requireLoaded("minilm",
        inference.modelReady(ModelReadyRequest.newBuilder().setName("minilm").build()).getReady());
  }

  @Test
  void paraphrasesAreCloseAndUnrelatedTextsAreNot() {
    EmbedResponse r = embed.embed(EmbedRequest.newBuilder().setModel("minilm").addAllTexts(List.of(
        "A man is playing a guitar.", "Someone is strumming a guitar on stage.",
        "The stock market fell sharply today.", "Photosynthesis converts light into chemical energy.")).build());
    assertEquals(384, r.getDimensions());
    assertEquals(4, r.getEmbeddingsCount());
    for (EmbedResponse.Vector v : r.getEmbeddingsList()) {
      assertEquals(1.0, dot(v, v), 1e-4, "normalised");
    }
    double paraphrase = dot(r.getEmbeddings(0), r.getEmbeddings(1));
    assertTrue(paraphrase > 0.5, "paraphrase cosine " + paraphrase);
    assertEquals(0.619, paraphrase, 0.01, "fixtures.md reference cosine");
    assertTrue(dot(r.getEmbeddings(0), r.getEmbeddings(2)) < 0.1, "unrelated 0-2");
    assertTrue(dot(r.getEmbeddings(0), r.getEmbeddings(3)) < 0.1, "unrelated 0-3");
    assertTrue(r.getTokenCounts(0) > 2);
  }

  @Test
  void batchingDoesNotChangeEmbeddings() {
    EmbedResponse alone = embed
        .embed(EmbedRequest.newBuilder().setModel("minilm").addTexts("A man is playing a guitar.").build());
    EmbedResponse padded = embed.embed(EmbedRequest.newBuilder().setModel("minilm")
        .addTexts("A man is playing a guitar.").addTexts("a much longer sentence that forces padding of the first one")
        .build());
    assertEquals(1.0, dot(alone.getEmbeddings(0), padded.getEmbeddings(0)), 1e-5);
  }

  @Test
  void servedAsIsThroughModelInfer() {
    ModelInferRequest.Builder req = ModelInferRequest.newBuilder().setModelName("minilm");
    for (String name : List.of("input_ids", "attention_mask", "token_type_ids")) {
      var contents = dev.pruneserve.api.inference.InferTensorContents.newBuilder();
      long[] vals = name.equals("input_ids") ? new long[] {101, 7592, 2088, 102}
          : name.equals("attention_mask") ? new long[] {1, 1, 1, 1} : new long[] {0, 0, 0, 0};
      for (long v : vals) {
        contents.addInt64Contents(v);
      }
      req.addInputs(ModelInferRequest.InferInputTensor.newBuilder().setName(name).setDatatype("INT64")
          .addShape(1).addShape(4).setContents(contents));
    }
    ModelInferResponse r = inference.modelInfer(req.build());
    assertEquals(List.of(1L, 4L, 384L), r.getOutputs(0).getShapeList());
    // pooling against the raw hidden state of "hello world" ([CLS] hello world [SEP])
    java.nio.FloatBuffer h = r.getRawOutputContents(0).asReadOnlyByteBuffer().order(java.nio.ByteOrder.LITTLE_ENDIAN)
        .asFloatBuffer();
    for (String pooling : List.of("cls", "last", "mean", "")) {
      EmbedResponse.Vector v = embed.embed(EmbedRequest.newBuilder().setModel("minilm").addTexts("hello world")
          .setNormalize(false).setPooling(pooling).build()).getEmbeddings(0);
      for (int d = 0; d < 384; d++) {
        double want = switch (pooling) {
          case "cls" -> h.get(d);
          case "last" -> h.get(3 * 384 + d);
          default -> (h.get(d) + h.get(384 + d) + h.get(2 * 384 + d) + h.get(3 * 384 + d)) / 4;
        };
        assertEquals(want, v.getValues(d), 1e-5, pooling + " " + d);
      }
    }
    assertStatus(Code.INVALID_ARGUMENT, "pooling 'max' is not one of", () -> embed.embed(EmbedRequest.newBuilder()
        .setModel("minilm").addTexts("x").setPooling("max").build()));
  }

  /** An encoder pruned by wanda-sp from calibration texts (its own tokenizer) through the Prune RPC, embedding at once. */
  @Test
  void anEncoderIsPrunedFromCalibrationTexts() {
    var calib = dev.pruneserve.api.v1.CalibrationSpec.newBuilder().addTexts("A man is playing a guitar.")
        .addTexts("The weather is lovely today.").addTexts("Stocks fell sharply on Monday morning.")
        .addTexts("She reads a book in the garden.");
    List<dev.pruneserve.api.v1.PruneEvent> events = new java.util.ArrayList<>();
    pruning.prune(dev.pruneserve.api.v1.PruneRequest.newBuilder().setModel("minilm").setMethod("wanda-sp")
        .setRatio(0.25).setCalibration(calib).build()).forEachRemaining(events::add);
    var v = events.get(events.size() - 1).getDone();
    assertTrue(v.getReportJson().contains("\"heads_per_layer\":[9,9,9,9,9,9]"), v.getReportJson());
    EmbedResponse e = embed.embed(EmbedRequest.newBuilder().setModel(v.getName()).addTexts("A man is playing a"
        + " guitar.").build());
    assertEquals(384, e.getEmbeddings(0).getValuesCount());
    assertStatus(Code.INVALID_ARGUMENT, "self_samples need a causal LM",
        () -> pruning.prune(dev.pruneserve.api.v1.PruneRequest.newBuilder().setModel("minilm").setMethod("wanda-sp")
            .setRatio(0.25).setCalibration(
                dev.pruneserve.api.v1.CalibrationSpec.newBuilder()
                    .setSelfSamples(dev.pruneserve.api.v1.CalibrationSpec.SelfSamples
                        .newBuilder().setCount(2)))
            .build()).forEachRemaining(x -> {}));
  }

  @Test
  void badRequests() {
    assertStatus(Code.INVALID_ARGUMENT, "give 1 to 256 texts", () -> embed.embed(
        EmbedRequest.newBuilder().setModel("minilm").build()));
    assertStatus(Code.FAILED_PRECONDITION, "not an encoder", () -> embed.embed(
        EmbedRequest.newBuilder().setModel("mlp").addTexts("x").build()));
    assertStatus(Code.NOT_FOUND, "unknown model", () -> embed.embed(
        EmbedRequest.newBuilder().setModel("ghost").addTexts("x").build()));
  }

  private static double dot(EmbedResponse.Vector a, EmbedResponse.Vector b) {
    double s = 0;
    for (int i = 0; i < a.getValuesCount(); i++) {
      s += a.getValues(i) * b.getValues(i);
    }
    return s;
  }
}
