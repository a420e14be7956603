package dev.pruneserve.grpc;

import static dev.pruneserve.grpc.GrpcAssertions.assertStatus;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pruneserve.api.inference.GRPCInferenceServiceGrpc;
import dev.pruneserve.api.inference.ModelInferRequest;
import dev.pruneserve.api.inference.ModelInferResponse;
import dev.pruneserve.api.inference.ModelReadyRequest;
import dev.pruneserve.api.inference.RepositoryIndexRequest;
import dev.pruneserve.api.v1.CalibrationSpec;
import dev.pruneserve.api.v1.CancelPruneRequest;
import dev.pruneserve.api.v1.CnnPruneOptions;
import dev.pruneserve.api.v1.DeleteAliasRequest;
import dev.pruneserve.api.v1.DeleteVariantRequest;
import dev.pruneserve.api.v1.EvaluationSpec;
import dev.pruneserve.api.v1.GenerateRequest;
import dev.pruneserve.api.v1.GenerationGrpc;
import dev.pruneserve.api.v1.GetAliasRequest;
import dev.pruneserve.api.v1.GetVariantRequest;
import dev.pruneserve.api.v1.ImageDataset;
import dev.pruneserve.api.v1.ListVariantsRequest;
import dev.pruneserve.api.v1.PruneEvent;
import dev.pruneserve.api.v1.PruneOptions;
import dev.pruneserve.api.v1.PruneRequest;
import dev.pruneserve.api.v1.PruningGrpc;
import dev.pruneserve.api.v1.RecoverOptions;
import dev.pruneserve.api.v1.SamplingParams;
import dev.pruneserve.api.v1.SetAliasRequest;
import dev.pruneserve.api.v1.Variant;
import dev.pruneserve.testing.TestRepositoryResource;
import io.grpc.Status.Code;
import io.grpc.StatusRuntimeException;
import io.quarkus.grpc.GrpcClient;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * pruneserve.v1.Pruning over real gRPC on stories15M: progress stream → variant served at once
 * (Generate, ModelReady, RepositoryIndex); identical requests share one job and one variant;
 * aliases with compare-and-set route inference; FLAP with calibration and evaluation texts;
 * cancellation leaves nothing; every bad request gets a precise status.
 */
@QuarkusTest
@WithTestResource(TestRepositoryResource.class)
class PruningGrpcTest {
  static final String STORY = "Once upon a time, there was a little girl named Lily. She loved to play outside.";

  @GrpcClient("inference") PruningGrpc.PruningBlockingStub pruning;

  @GrpcClient("inference") GRPCInferenceServiceGrpc.GRPCInferenceServiceBlockingStub inference;

  @GrpcClient("inference") GenerationGrpc.GenerationBlockingStub gen;

  @BeforeEach
  void requireModel() {
    dev.pruneserve.testing.Fixtures.requireLoaded("stories15m",
        inference.modelReady(ModelReadyRequest.newBuilder().setName("stories15m").build()).getReady());
  }

  @Test
  void pruneStreamsProgressAndServesTheVariantAtOnce() {
    List<PruneEvent> events = events(request("magnitude-l2", 0.3).build());
    Variant v = events.get(events.size() - 1).getDone();
    assertTrue(v.getName().startsWith("stories15m@magnitude-l2-p30-"), v.getName());
    List<String> phases = events.stream().filter(PruneEvent::hasProgress).map(e -> e.getProgress().getPhase())
        .distinct().toList();
    assertTrue(phases.containsAll(List.of("scoring", "validating", "writing", "loading")), phases.toString());
    assertTrue(v.getParametersAfter() < v.getParametersBefore());
    assertFalse(v.getReused());
    assertTrue(inference.modelReady(ModelReadyRequest.newBuilder().setName(v.getName()).build()).getReady());
    assertTrue(gen.generateUnary(GenerateRequest.newBuilder().setModel(v.getName()).setPrompt("Once upon a time")
        .setParams(SamplingParams.newBuilder().setMaxNewTokens(8)).build()).getSummary().getGeneratedTokens() > 0);
    assertTrue(inference.repositoryIndex(RepositoryIndexRequest.getDefaultInstance()).getModelsList().stream()
        .anyMatch(m -> m.getName().equals(v.getName())));
    assertTrue(pruning.listVariants(ListVariantsRequest.newBuilder().setModel("stories15m").build())
        .getVariantsList().stream().anyMatch(x -> x.getName().equals(v.getName())));
    // the same request again reuses the stored variant
    Variant again = last(events(request("magnitude-l2", 0.3).build())).getDone();
    assertEquals(v.getName(), again.getName());
    assertTrue(again.getReused());
  }

  @Test
  void concurrentIdenticalRequestsShareOneJob() throws Exception {
    PruneRequest req = request("random", 0.25).setOptions(PruneOptions.newBuilder().setSeed(41)).build();
    CompletableFuture<List<PruneEvent>> a = CompletableFuture.supplyAsync(() -> events(req));
    CompletableFuture<List<PruneEvent>> b = CompletableFuture.supplyAsync(() -> events(req));
    PruneEvent da = last(a.get());
    PruneEvent db = last(b.get());
    assertEquals(da.getDone().getName(), db.getDone().getName());
    // either both watched one job, or the second found the finished variant: never two prunings
    assertTrue(da.getJobId().equals(db.getJobId()) || da.getDone().getReused() || db.getDone().getReused());
  }

  @Test
  void aliasesRouteWithCompareAndSet() {
    String v1 = last(events(request("magnitude-l2", 0.2).build())).getDone().getName();
    String v2 = last(events(request("magnitude-l1", 0.2).build())).getDone().getName();
    pruning.setAlias(SetAliasRequest.newBuilder().setAlias("story").setTarget(v1).setExpectedCurrent("").build());
    assertEquals(v1, pruning.getAlias(GetAliasRequest.newBuilder().setAlias("story").build()).getTarget());
    assertTrue(gen.generateUnary(GenerateRequest.newBuilder().setModel("story").setPrompt("Once")
        .setParams(SamplingParams.newBuilder().setMaxNewTokens(4)).build()).getSummary().getGeneratedTokens() > 0);
    assertStatus(Code.FAILED_PRECONDITION, "not the expected", () -> pruning.setAlias(SetAliasRequest.newBuilder()
        .setAlias("story").setTarget(v2).setExpectedCurrent("stories15m").build()));
    assertEquals(v1, pruning.getAlias(GetAliasRequest.newBuilder().setAlias("story").build()).getTarget());
    pruning.setAlias(SetAliasRequest.newBuilder().setAlias("story").setTarget(v2).setExpectedCurrent(v1).build());
    assertEquals(v2, pruning.getAlias(GetAliasRequest.newBuilder().setAlias("story").build()).getTarget());
    assertStatus(Code.FAILED_PRECONDITION, "target of aliases", () -> pruning.deleteVariant(
        DeleteVariantRequest.newBuilder().setName(v2).build()));
    assertStatus(Code.NOT_FOUND, "not a model", () -> pruning.setAlias(SetAliasRequest.newBuilder()
        .setAlias("story").setTarget("nope").build()));
    assertStatus(Code.INVALID_ARGUMENT, "cannot be an alias", () -> pruning.setAlias(SetAliasRequest.newBuilder()
        .setAlias("mlp").setTarget(v1).build()));
    pruning.deleteAlias(DeleteAliasRequest.newBuilder().setAlias("story").build());
    pruning.deleteVariant(DeleteVariantRequest.newBuilder().setName(v2).build());
    assertStatus(Code.NOT_FOUND, "no variant", () -> pruning.getVariant(GetVariantRequest.newBuilder()
        .setName(v2).build()));
    assertFalse(inference.modelReady(ModelReadyRequest.newBuilder().setName(v2).build()).getReady());
  }

  @Test
  void pinningIsRecordedAndReported() {
    String v = last(events(request("magnitude-sp", 0.25).build())).getDone().getName();
    assertTrue(pruning.pinVariant(dev.pruneserve.api.v1.PinVariantRequest.newBuilder().setName(v).setPinned(true)
        .build()).getPinned());
    assertTrue(pruning.getVariant(GetVariantRequest.newBuilder().setName(v).build()).getPinned());
    pruning.pinVariant(dev.pruneserve.api.v1.PinVariantRequest.newBuilder().setName(v).setPinned(false).build());
    assertFalse(pruning.getVariant(GetVariantRequest.newBuilder().setName(v).build()).getPinned());
    assertStatus(Code.NOT_FOUND, "no variant", () -> pruning.pinVariant(dev.pruneserve.api.v1.PinVariantRequest
        .newBuilder().setName("stories15m@nope").setPinned(true).build()));
  }

  @Test
  void flapWithCalibrationAndEvaluationTexts() {
    CalibrationSpec calib = CalibrationSpec.newBuilder().addTexts(STORY).addTexts("The dog ran to the park.")
        .addTexts("Tom had a big red ball. He liked to throw it high.").build();
    EvaluationSpec eval = EvaluationSpec.newBuilder().addTexts(STORY.repeat(8)).build();
    Variant v = last(events(request("flap", 0.2).setCalibration(calib).setEvaluation(eval).build())).getDone();
    assertTrue(v.getName().startsWith("stories15m@flap-p20-"), v.getName());
    assertTrue(v.getReportJson().contains("\"perplexity\""), v.getReportJson());
    assertTrue(v.getRecipeJson().contains("\"bias_compensation\":true"), v.getRecipeJson());
  }

  /** Reconstruction as a recovery option of a weight-only method: needs calibration, recorded, served. */
  @Test
  void reconstructionAfterAWeightOnlyMethod() {
    CalibrationSpec calib = CalibrationSpec.newBuilder().addTexts(STORY).addTexts("The dog ran to the park.").build();
    PruneOptions rec = PruneOptions.newBuilder().setRecover(RecoverOptions.newBuilder().setReconstruct(true)).build();
    Variant v = last(events(request("magnitude-l2", 0.3).setCalibration(calib).setOptions(rec).build())).getDone();
    assertTrue(v.getRecipeJson().contains("\"reconstruct\":{") && v.getReportJson().contains("\"reconstructed\""),
        v.getRecipeJson() + " / " + v.getReportJson());
    assertTrue(gen.generateUnary(dev.pruneserve.api.v1.GenerateRequest.newBuilder().setModel(v.getName()).setPrompt(
        "Once upon a time").setParams(dev.pruneserve.api.v1.SamplingParams.newBuilder().setMaxNewTokens(4)).build())
        .getTokenIdsCount() > 0, "served at once");
    assertStatus(Code.INVALID_ARGUMENT, "needs calibration data", () -> events(request("magnitude-l2", 0.3)
        .setOptions(rec).build()));
  }

  @Test
  void selfSampledCalibrationIsSeededAndPartOfTheRecipe() {
    CalibrationSpec calib = CalibrationSpec.newBuilder().setSelfSamples(CalibrationSpec.SelfSamples.newBuilder()
        .setCount(3).setMaxLength(24).setSeed(7)).build();
    List<PruneEvent> events = events(request("wanda-sp", 0.2).setCalibration(calib).build());
    Variant v = last(events).getDone();
    assertTrue(events.stream().anyMatch(e -> e.getProgress().getPhase().equals("sampling")));
    assertTrue(v.getRecipeJson().contains("\"self_samples\":{\"count\":3,\"max_length\":24,\"seed\":7}"),
        v.getRecipeJson());
    assertTrue(last(events(request("wanda-sp", 0.2).setCalibration(calib).build())).getDone().getReused());
    CalibrationSpec other = calib.toBuilder().setSelfSamples(calib.getSelfSamples().toBuilder().setSeed(8)).build();
    String v8 = last(events(request("wanda-sp", 0.2).setCalibration(other).build())).getDone().getName();
    assertFalse(v8.equals(v.getName()), "another seed is another calibration set, so another variant");
    assertStatus(Code.INVALID_ARGUMENT, "self_samples.max_length", () -> events(request("wanda-sp", 0.2)
        .setCalibration(CalibrationSpec.newBuilder().setSelfSamples(CalibrationSpec.SelfSamples.newBuilder()
            .setMaxLength(1)))
        .build()));
  }

  @Test
  void miniLlmStreamsProgressThroughTheQueries() {
    CalibrationSpec calib = CalibrationSpec.newBuilder().addTexts(STORY).addTexts("The dog ran to the park.").build();
    PruneRequest.Builder req = request("mini-llm", 0.2).setCalibration(calib).setOptions(PruneOptions.newBuilder()
        .setMiniLlm(dev.pruneserve.api.v1.MiniLlmOptions.newBuilder().setMode("masks").setQueries(3)));
    List<PruneEvent> events = events(req.build());
    Variant v = last(events).getDone();
    // one event per micro-batch of each evaluation: 3 queries × 2 evaluations × 1 micro-batch (2 texts)
    assertEquals(6, events.stream().filter(e -> e.getProgress().getPhase().equals("querying")).count());
    assertTrue(v.getName().startsWith("stories15m@mini-llm-p20-"), v.getName());
    assertTrue(v.getReportJson().contains("pruneserve extension"), "labelled in the report: " + v.getReportJson());
    assertFalse(v.getRecipeJson().contains("extension"), "never in the hashed recipe: " + v.getRecipeJson());
    assertTrue(v.getReportJson().contains("\"spearman_vs_weight_activation\""), v.getReportJson());
    assertTrue(v.getParametersAfter() < v.getParametersBefore());
    assertStatus(Code.INVALID_ARGUMENT, "options.mini_llm.mode 'psychic'", () -> events(req.setOptions(PruneOptions
        .newBuilder().setMiniLlm(dev.pruneserve.api.v1.MiniLlmOptions.newBuilder().setMode("psychic"))).build()));
    assertStatus(Code.INVALID_ARGUMENT, "options.groups applies to", () -> events(req.setOptions(PruneOptions
        .newBuilder().setGroups("mlp")).build()));
  }

  @Test
  void cancellingAJobLeavesNothing() {
    var it = pruning.prune(request("wanda-sp", 0.4).setCalibration(longCalibration()).build());
    PruneEvent first = it.next();
    pruning.cancelPrune(CancelPruneRequest.newBuilder().setJobId(first.getJobId()).build());
    assertCancelled(it);
    assertTrue(pruning.listVariants(ListVariantsRequest.getDefaultInstance()).getVariantsList().stream()
        .noneMatch(v -> v.getName().contains("wanda-sp-p40")));
  }

  @Test
  void ifsoAndTaylorPruneACnnToAFlopsTargetAndServeIt() {
    org.junit.jupiter.api.Assumptions.assumeTrue(dev.pruneserve.assets.FashionMnist.available(),
        "Fashion-MNIST not installed");
    CalibrationSpec images = CalibrationSpec.newBuilder().setImages(ImageDataset.newBuilder().setName("fashion-mnist")
        .setCount(256)).build();
    CnnPruneOptions cnn = CnnPruneOptions.newBuilder().setMode("one-shot").setBatch(16).setScoringBatches(1)
        .setInterval(1).setRescoreEvery(4).build();
    for (String method : List.of("ifso", "taylor")) {
      List<PruneEvent> events = events(PruneRequest.newBuilder().setModel("fashion-cnn").setMethod(method)
          .setRatio(0.4).setCalibration(images).setOptions(PruneOptions.newBuilder().setSeed(3).setCnn(cnn)
              .setRecover(RecoverOptions.newBuilder().setSteps(4).setBatch(16)))
          .build());
      Variant v = last(events).getDone();
      assertTrue(v.getName().startsWith("fashion-cnn@" + method + "-"), v.getName());
      List<String> phases = events.stream().filter(PruneEvent::hasProgress).map(e -> e.getProgress().getPhase())
          .distinct().toList();
      assertTrue(phases.containsAll(List.of("scoring", "training", "validating", "loading")), phases.toString());
      assertTrue(v.getRecipeJson().contains("\"mode\":\"one-shot\""), v.getRecipeJson());
      double kept = Double.parseDouble(v.getReportJson().replaceAll("(?s).*\"flops_kept\":([0-9.eE-]+).*", "$1"));
      assertTrue(kept <= 0.6, "FLOPs kept " + kept);
      assertTrue(v.getReportJson().contains("\"channels_per_group\":[") && !v.getReportJson().contains("heads_per"),
          "a CNN report names its widths per channel group: " + v.getReportJson());
      ModelInferResponse out = inference.modelInfer(ModelInferRequest.newBuilder().setModelName(v.getName())
          .addInputs(ModelInferRequest.InferInputTensor.newBuilder().setName("x").setDatatype("FP32")
              .addShape(2).addShape(1).addShape(28).addShape(28))
          .addRawInputContents(dev.pruneserve.testing.Requests.rawFp32(new float[2 * 28 * 28])).build());
      assertEquals(List.of(2L, 10L), out.getOutputs(0).getShapeList());
    }
    assertStatus(Code.INVALID_ARGUMENT, "needs labelled training images", () -> events(PruneRequest.newBuilder()
        .setModel("fashion-cnn").setMethod("ifso").setRatio(0.4).build()));
    assertStatus(Code.INVALID_ARGUMENT, "unknown image dataset", () -> events(PruneRequest.newBuilder()
        .setModel("fashion-cnn").setMethod("ifso").setRatio(0.4).setCalibration(CalibrationSpec.newBuilder()
            .setImages(ImageDataset.newBuilder().setName("cifar-10")))
        .build()));
    assertStatus(Code.INVALID_ARGUMENT, "needs labelled training images", () -> events(PruneRequest.newBuilder()
        .setModel("fashion-cnn").setMethod("taylor").setRatio(0.4).setCalibration(CalibrationSpec.newBuilder()
            .addTexts(STORY))
        .build()));
    assertStatus(Code.INVALID_ARGUMENT, "apply to CNNs only", () -> events(request("taylor", 0.2)
        .setCalibration(images).build()));
    assertStatus(Code.INVALID_ARGUMENT, "cnn.mode", () -> events(PruneRequest.newBuilder()
        .setModel("fashion-cnn").setMethod("ifso").setRatio(0.4).setCalibration(images).setOptions(PruneOptions
            .newBuilder().setCnn(CnnPruneOptions.newBuilder().setMode("sometimes")))
        .build()));
  }

  /** IFSO on the client's own labelled images, kept beside the model (datasets/<folder>/ as .npy). */
  @Test
  void ifsoPrunesWithTheModelsOwnDataset() throws Exception {
    java.nio.file.Path repo = java.nio.file.Path.of(org.eclipse.microprofile.config.ConfigProvider.getConfig()
        .getValue("pruneserve.repository.path", String.class));
    java.nio.file.Path mine = repo.resolve("fashion-cnn/datasets/mine");
    java.util.SplittableRandom rnd = new java.util.SplittableRandom(5);
    byte[] pixels = new byte[64 * 28 * 28];
    long[] labels = new long[64];
    for (int i = 0; i < pixels.length; i++) {
      pixels[i] = (byte) rnd.nextInt(256);
    }
    for (int i = 0; i < labels.length; i++) {
      labels[i] = i % 10;
    }
    dev.pruneserve.testing.NpyFiles.write(mine.resolve("images.npy"), "|u1", false, new long[] {64, 1, 28, 28},
        pixels);
    dev.pruneserve.testing.NpyFiles.write(mine.resolve("labels.npy"), "<i8", false, new long[] {64},
        dev.pruneserve.testing.NpyFiles.int64(labels));
    CnnPruneOptions cnn = CnnPruneOptions.newBuilder().setMode("one-shot").setBatch(16).setScoringBatches(1)
        .setInterval(1).setRescoreEvery(4).build();
    PruneRequest.Builder req = PruneRequest.newBuilder().setModel("fashion-cnn").setMethod("ifso").setRatio(0.3)
        .setCalibration(CalibrationSpec.newBuilder().setImages(ImageDataset.newBuilder().setName("model:mine")))
        .setOptions(PruneOptions.newBuilder().setSeed(4).setCnn(cnn));
    Variant v = last(events(req.build())).getDone();
    assertTrue(v.getRecipeJson().contains("\"dataset\":\"model:mine\""), v.getRecipeJson());
    assertTrue(v.getRecipeJson().matches(
        "(?s).*\"images_sha256\":\"[0-9a-f]{64}\",\"labels_sha256\":\"[0-9a-f]{64}\".*"), v.getRecipeJson());
    assertTrue(inference.modelReady(ModelReadyRequest.newBuilder().setName(v.getName()).build()).getReady());
    // 64 images, fewer than a recover batch: BN statistics recalibrated in batches of all of them
    assertTrue(v.getReportJson().contains("\"bn_recalibrated\":") && v.getReportJson().contains("\"batch\":64"),
        v.getReportJson());

    // reconstruction after a weight-only method from the same images (labels not needed), with its phase
    List<PruneEvent> rec = events(PruneRequest.newBuilder().setModel("fashion-cnn").setMethod("magnitude-l1")
        .setRatio(0.3).setCalibration(CalibrationSpec.newBuilder().setImages(ImageDataset.newBuilder().setName(
            "model:mine")))
        .setOptions(PruneOptions.newBuilder().setRecover(RecoverOptions.newBuilder()
            .setReconstruct(true).setReconstructSamples(48)))
        .build());
    assertTrue(rec.stream().anyMatch(e -> e.hasProgress() && e.getProgress().getPhase().equals("reconstructing")));
    Variant rv = last(rec).getDone();
    assertTrue(rv.getRecipeJson().contains("\"reconstruct\":{\"mode\":\"sequential\"") && rv.getReportJson()
        .contains("\"reconstructed\":[{"), rv.getRecipeJson() + " / " + rv.getReportJson());
    // reconstruction keeps the dense BN statistics unless recalibration is asked for
    assertFalse(rv.getReportJson().contains("bn_recalibrated"), rv.getReportJson());
    assertTrue(inference.modelReady(ModelReadyRequest.newBuilder().setName(rv.getName()).build()).getReady());
    assertStatus(Code.INVALID_ARGUMENT, "one-shot reconstruction applies to transformers",
        () -> events(PruneRequest.newBuilder()
            .setModel("fashion-cnn").setMethod("magnitude-l1").setRatio(0.3).setCalibration(CalibrationSpec.newBuilder()
                .setImages(ImageDataset.newBuilder().setName("model:mine")))
            .setOptions(PruneOptions.newBuilder()
                .setRecover(RecoverOptions.newBuilder().setReconstruct(true).setReconstructMode("one-shot")))
            .build()));

    assertStatus(Code.NOT_FOUND, "no dataset 'model:theirs'", () -> events(req.setCalibration(CalibrationSpec
        .newBuilder().setImages(ImageDataset.newBuilder().setName("model:theirs"))).build()));
    assertStatus(Code.INVALID_ARGUMENT, "not a path", () -> events(req.setCalibration(CalibrationSpec.newBuilder()
        .setImages(ImageDataset.newBuilder().setName("dir:" + mine))).build()));
    assertStatus(Code.INVALID_ARGUMENT, "unknown image dataset", () -> events(req.setCalibration(CalibrationSpec
        .newBuilder().setImages(ImageDataset.newBuilder().setName("model:../stories15m"))).build()));
  }

  @Test
  void forwardSearchPrunesAndServes() {
    CalibrationSpec.Builder calib = CalibrationSpec.newBuilder();
    for (int i = 0; i < 8; i++) {
      calib.addTexts(STORY + " Then story " + i + " ended.");
    }
    List<PruneEvent> events = events(request("forward-search", 0.2).setCalibration(calib).build());
    Variant v = last(events).getDone();
    assertTrue(v.getName().startsWith("stories15m@forward-search-p20-"), v.getName());
    assertEquals(36, events.stream().filter(e -> e.hasProgress() && e.getProgress().getPhase().equals("scoring"))
        .count(), "one scoring event per search forward: 6 layers x 6 candidate heads");
    assertTrue(v.getReportJson().contains("\"loss_forwards\":36"), v.getReportJson());
    assertTrue(v.getReportJson().contains("FLAP WIFV channels)\""), "bias_compensation unset = off for the search: "
        + v.getReportJson());
    assertTrue(gen.generateUnary(GenerateRequest.newBuilder().setModel(v.getName()).setPrompt("Once upon a time")
        .setParams(SamplingParams.newBuilder().setMaxNewTokens(8)).build()).getSummary().getGeneratedTokens() > 0);
  }

  /**
   * A variant stored before ids hashed data only (prose in its recipe, an id no request maps to
   * now) stays listed, served and deletable; an identical request makes a new variant.
   */
  @Test
  void aVariantStoredBeforeStableIdsIsStillServed() throws Exception {
    java.nio.file.Path repo = java.nio.file.Path.of(org.eclipse.microprofile.config.ConfigProvider.getConfig()
        .getValue("pruneserve.repository.path", String.class));
    String name = "stories15m@magnitude-l2-p40-0123456789";
    byte[] model = java.nio.file.Files.readAllBytes(repo.resolve("stories15m/1/model.onnx"));
    java.util.Map<String, Object> recipe = new java.util.LinkedHashMap<>();
    recipe.put("method", "magnitude-l2");
    recipe.put("ratio", 0.4);
    recipe.put("ratio_semantics", "per layer: (d - int(d*(1-p))) div hd heads, F - int(F*(1-p)) channels");
    new dev.pruneserve.variant.VariantStore(new dev.pruneserve.repository.ModelRepository(repo)).write(
        new dev.pruneserve.variant.VariantManifest(name, "magnitude-l2-p40-0123456789", "stories15m", "1", "legacy",
            recipe, java.util.Map.of(), dev.pruneserve.variant.VariantIds.sha256Hex(model), 1, 1, model.length,
            "2026-11-30T00:00:00Z"),
        model, repo.resolve("stories15m"));
    assertTrue(pruning.listVariants(ListVariantsRequest.newBuilder().setModel("stories15m").build())
        .getVariantsList().stream().anyMatch(v -> v.getName().equals(name)));
    assertTrue(gen.generateUnary(GenerateRequest.newBuilder().setModel(name).setPrompt("Once upon a time")
        .setParams(SamplingParams.newBuilder().setMaxNewTokens(4)).build()).getSummary().getGeneratedTokens() > 0);
    Variant fresh = last(events(request("magnitude-l2", 0.4).build())).getDone();
    assertFalse(fresh.getReused());
    assertFalse(fresh.getName().equals(name));
    pruning.deleteVariant(DeleteVariantRequest.newBuilder().setName(name).build());
  }

  /**
   * SetAlias racing DeleteVariant on the same variant, 200 rounds from two threads: one of them
   * wins each round, and no alias is ever left pointing at a deleted variant.
   */
  @Test
  void setAliasRacingDeleteVariantNeverLeavesADanglingAlias() throws Exception {
    java.nio.file.Path repo = java.nio.file.Path.of(org.eclipse.microprofile.config.ConfigProvider.getConfig()
        .getValue("pruneserve.repository.path", String.class));
    byte[] model = java.nio.file.Files.readAllBytes(repo.resolve("mlp/1/model.onnx"));
    var store = new dev.pruneserve.variant.VariantStore(new dev.pruneserve.repository.ModelRepository(repo));
    var pool = java.util.concurrent.Executors.newFixedThreadPool(2);
    int aliasWon = 0;
    int deleteWon = 0;
    try {
      for (int i = 0; i < 200; i++) {
        String name = "mlp@race-" + i;
        store.write(new dev.pruneserve.variant.VariantManifest(name, "race-" + i, "mlp", "1", "race",
            java.util.Map.of(), java.util.Map.of(), dev.pruneserve.variant.VariantIds.sha256Hex(model), 1, 1,
            model.length, "2026-12-02T00:00:00Z"), model, repo.resolve("mlp"));
        var set = pool.submit(() -> pruning.setAlias(SetAliasRequest.newBuilder().setAlias("race").setTarget(name)
            .build()));
        var delete = pool.submit(() -> pruning.deleteVariant(DeleteVariantRequest.newBuilder().setName(name)
            .build()));
        boolean setOk = succeeded(set);
        boolean deleteOk = succeeded(delete);
        assertTrue(setOk != deleteOk || !setOk, "round " + i + ": both succeeded");
        String target = pruning.listAliases(dev.pruneserve.api.v1.ListAliasesRequest.getDefaultInstance())
            .getAliasesList().stream().filter(a -> a.getAlias().equals("race")).map(a -> a.getTarget()).findFirst()
            .orElse("");
        if (target.equals(name)) {
          assertTrue(store.read(name).isPresent(), "round " + i + ": the alias points at a deleted variant");
          if (aliasWon == 0) { // ModelInfer through an alias names the model that served, as Generate does
            ModelInferResponse out = inference.modelInfer(ModelInferRequest.newBuilder().setModelName("race")
                .addInputs(ModelInferRequest.InferInputTensor.newBuilder().setName("x").setDatatype("FP32")
                    .addShape(1).addShape(16))
                .addRawInputContents(dev.pruneserve.testing.Requests.rawFp32(new float[16])).build());
            assertEquals(name, out.getModelName());
          }
          aliasWon++;
          pruning.deleteAlias(DeleteAliasRequest.newBuilder().setAlias("race").build());
        } else {
          deleteWon++;
        }
        if (store.read(name).isPresent()) {
          pruning.deleteVariant(DeleteVariantRequest.newBuilder().setName(name).build());
        }
      }
    } finally {
      pool.shutdownNow();
    }
    assertEquals(200, aliasWon + deleteWon);
  }

  /** True when the call returned, false when it was refused with NOT_FOUND or FAILED_PRECONDITION. */
  private static boolean succeeded(java.util.concurrent.Future<?> call) throws InterruptedException {
    try {
      call.get();
      return true;
    } catch (java.util.concurrent.ExecutionException e) {
      Code c = ((StatusRuntimeException) e.getCause()).getStatus().getCode();
      assertTrue(c == Code.NOT_FOUND || c == Code.FAILED_PRECONDITION, e.getCause().toString());
      return false;
    }
  }

  @Test
  void pruneJobsBeyondTheLimitAreRefused() {
    // %test.pruneserve.limits.max-prune-jobs=2: one running and one queued job fill it
    CalibrationSpec.Builder calib = longCalibration();
    var a = pruning.prune(request("wanda-sp", 0.35).setCalibration(calib).build());
    var b = pruning.prune(request("wanda-sp", 0.36).setCalibration(calib).build());
    String ja = a.next().getJobId();
    String jb = b.next().getJobId();
    assertStatus(Code.RESOURCE_EXHAUSTED, "max-prune-jobs", () -> events(request("wanda-sp", 0.37)
        .setCalibration(calib).build()));
    for (String j : List.of(ja, jb)) {
      pruning.cancelPrune(CancelPruneRequest.newBuilder().setJobId(j).build());
    }
    assertCancelled(a);
    assertCancelled(b);
  }

  @Test
  void badRequestsGetPreciseStatuses() {
    assertStatus(Code.INVALID_ARGUMENT, "unknown method", () -> events(request("prune-harder", 0.3).build()));
    assertStatus(Code.INVALID_ARGUMENT, "ratio must be in (0, 1)", () -> events(request("random", 1.5).build()));
    assertStatus(Code.INVALID_ARGUMENT, "needs calibration", () -> events(request("flap", 0.3).build()));
    assertStatus(Code.INVALID_ARGUMENT, "outside the model's 6 layers", () -> events(request("magnitude-l2", 0.3)
        .setOptions(PruneOptions.newBuilder().setFirstLayer(50).setEndLayer(60)).build()));
    assertStatus(Code.INVALID_ARGUMENT, "removes no head or channel", () -> events(request("magnitude-l2", 1e-300)
        .build()));
    CalibrationSpec.TokenSequence.Builder tooLong = CalibrationSpec.TokenSequence.newBuilder();
    for (int i = 0; i < 300; i++) {
      tooLong.addIds(1 + i % 100);
    }
    assertStatus(Code.INVALID_ARGUMENT, "the model's context is 256", () -> events(request("flap", 0.3)
        .setCalibration(CalibrationSpec.newBuilder().addSequences(tooLong)).build()));
    assertStatus(Code.INVALID_ARGUMENT, "at most 262144", () -> events(request("flap", 0.3)
        .setCalibration(CalibrationSpec.newBuilder().addTexts("a".repeat(262_145))).build()));
    assertStatus(Code.NOT_FOUND, "unknown model", () -> events(request("random", 0.3).setModel("nope").build()));
    assertStatus(Code.INVALID_ARGUMENT, "not the variant", () -> events(request("random", 0.3)
        .setModel("stories15m@x").build()));
    assertStatus(Code.INVALID_ARGUMENT, "outside the model's vocabulary", () -> events(request("flap", 0.3)
        .setCalibration(CalibrationSpec.newBuilder().addSequences(CalibrationSpec.TokenSequence.newBuilder()
            .addIds(1).addIds(99_999)))
        .build()));
    assertStatus(Code.INVALID_ARGUMENT, "options.flap_metric", () -> events(request("flap", 0.3)
        .setOptions(PruneOptions.newBuilder().setFlapMetric("best")).build()));
    assertStatus(Code.INVALID_ARGUMENT, "forward_search.channels", () -> events(request("forward-search", 0.3)
        .setOptions(PruneOptions.newBuilder().setForwardSearch(dev.pruneserve.api.v1.ForwardSearchOptions.newBuilder()
            .setChannels("magic")))
        .setCalibration(CalibrationSpec.newBuilder().addTexts(STORY)).build()));
  }

  /** 64 stories: Wanda-SP runs long enough on them to be cancelled or to fill the job limit. */
  private static CalibrationSpec.Builder longCalibration() {
    CalibrationSpec.Builder calib = CalibrationSpec.newBuilder();
    for (int i = 0; i < 64; i++) {
      calib.addTexts(STORY + " Story number " + i + ".");
    }
    return calib;
  }

  /** The stream of a cancelled job ends with CANCELLED. */
  private static void assertCancelled(java.util.Iterator<PruneEvent> it) {
    StatusRuntimeException e = org.junit.jupiter.api.Assertions.assertThrows(StatusRuntimeException.class, () -> {
      while (it.hasNext()) {
        it.next();
      }
    });
    assertEquals(Code.CANCELLED, e.getStatus().getCode());
  }

  private static PruneRequest.Builder request(String method, double ratio) {
    return PruneRequest.newBuilder().setModel("stories15m").setMethod(method).setRatio(ratio);
  }

  private List<PruneEvent> events(PruneRequest req) {
    List<PruneEvent> out = new ArrayList<>();
    pruning.prune(req).forEachRemaining(out::add);
    assertTrue(last(out).hasDone(), "stream ends with done");
    return out;
  }

  private static PruneEvent last(List<PruneEvent> events) {
    return events.get(events.size() - 1);
  }
}
