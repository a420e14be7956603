package dev.pruneserve.assets.trained;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.pruneserve.assets.FashionMnist;
import dev.pruneserve.assets.FixtureCache;
import dev.pruneserve.eval.ClassifierAgreement;
import dev.pruneserve.onnx.proto.Onnx.ModelProto;
import dev.pruneserve.repository.AtomicFiles;
import dev.pruneserve.session.ModelSession;
import dev.pruneserve.session.SessionLoader;
import dev.pruneserve.train.ImageSet;
import dev.pruneserve.train.ResNet;
import dev.pruneserve.train.Trainer;
import dev.pruneserve.train.TrainingSession;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The trained CNN fixture: a ResNet-style classifier ({@link ResNet}: stages of 16/32/64 channels,
 * {@link #BLOCKS} basic blocks each, BatchNormalization, residual Adds) trained from scratch on
 * Fashion-MNIST with the project's own backward graphs on ONNX Runtime (SGD, momentum 0.9, weight
 * decay 1e-4, batch 128, lr 0.1 cosine, seed 1). Cached in {@code <cache>/fashion-resnet/} with
 * {@code model.onnx.json} (recipe, test accuracy, sha256; the sha256 guards the cached file, it is
 * not pinned in code because float32 summation order may differ across machines). Command:
 * {@code ./mvnw -B -q -Pcnn-fixture process-classes} (trains only when the cache lacks it).
 */
public final class FashionResNet {
  public static final long SEED = 1;
  public static final int BLOCKS = 1;
  public static final int[] WIDTHS = {16, 32, 64};
  public static final int BATCH = 128;
  public static final int EPOCHS = 5;
  public static final double LR = 0.1;

  private FashionResNet() {}

  public static Path modelFile(FixtureCache cache) {
    return cache.resolve("fashion-resnet/model.onnx");
  }

  /** True when the model and its report are cached and the model matches the report's sha256. */
  public static boolean present(FixtureCache cache) throws IOException {
    Path report = Path.of(modelFile(cache) + ".json");
    if (!Files.isRegularFile(report) || !Files.isRegularFile(modelFile(cache))) {
      return false;
    }
    Object sha = new ObjectMapper().readValue(report.toFile(), Map.class).get("sha256");
    return FixtureCache.verified(modelFile(cache), String.valueOf(sha));
  }

  /** Trains and caches the fixture unless present; returns the test accuracy recorded for it. */
  public static synchronized void ensure(FixtureCache cache, SessionLoader loader, int epochs) throws IOException {
    if (present(cache)) {
      return;
    }
    ImageSet train = FashionMnist.train();
    ImageSet test = FashionMnist.test();
    ModelProto dense = ResNet.build("fashion-resnet", SEED, 1, 28, 10, BLOCKS, WIDTHS);
    Path dir = modelFile(cache).getParent();
    Files.createDirectories(dir);
    long t0 = System.nanoTime();
    int steps = epochs * (train.size() / BATCH);
    ModelProto trained;
    try (TrainingSession s = TrainingSession.open(dense, BATCH, loader, dir)) {
      double[] window = new double[2];
      Trainer.run(s, train, Trainer.Options.of(steps, LR, SEED), (step, lr, r) -> {
        window[0] += r.loss();
        window[1] += (double) r.correct() / BATCH;
        if ((step + 1) % 100 == 0) {
          System.out.printf("step %d/%d  lr %.4f  loss %.4f  train acc %.4f  %.0f s%n", step + 1, steps, lr,
              window[0] / 100, window[1] / 100, (System.nanoTime() - t0) / 1e9);
          window[0] = 0;
          window[1] = 0;
        }
      });
      trained = s.export();
    }
    Path file = modelFile(cache);
    AtomicFiles.write(Path.of(file + ".tmp"), trained.toByteArray());
    double acc;
    try (ModelSession m = loader.load("fashion-resnet/1", Path.of(file + ".tmp"))) {
      acc = ClassifierAgreement.accuracy(m, test, 500);
    }
    Map<String, Object> report = new LinkedHashMap<>();
    report.put("architecture",
        "ResNet widths " + java.util.Arrays.toString(WIDTHS) + ", " + BLOCKS + " block(s)/stage");
    report.put("seed", SEED);
    report.put("epochs", epochs);
    report.put("batch", BATCH);
    report.put("optimizer", "SGD lr " + LR + " cosine, momentum 0.9, weight decay 1e-4");
    report.put("test_accuracy", acc);
    report.put("train_seconds", (System.nanoTime() - t0) / 1e9);
    report.put("sha256", FixtureCache.sha256(Path.of(file + ".tmp")));
    Files.move(Path.of(file + ".tmp"), file, java.nio.file.StandardCopyOption.ATOMIC_MOVE,
        java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    AtomicFiles.write(Path.of(file + ".json"), new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT)
        .writeValueAsBytes(report));
    System.out.printf("fashion-resnet: test accuracy %.4f -> %s%n", acc, file);
  }

  /** Fashion-MNIST's class names, in label order. */
  public static final List<String> LABELS = List.of("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal",
      "Shirt", "Sneaker", "Bag", "Ankle boot");

  /**
   * Puts the cached fixture into a repository as {@code <root>/fashion-resnet/1/model.onnx} (kind
   * image-classifier, with labels) when it was trained and is not there yet; false when not cached.
   */
  public static boolean installIfCached(FixtureCache cache, Path repositoryRoot) throws IOException {
    Path onnx = repositoryRoot.resolve("fashion-resnet/1/model.onnx");
    if (Files.isRegularFile(onnx)) {
      return true;
    }
    if (!present(cache)) {
      return false;
    }
    String labels = LABELS.stream().map(l -> "\"" + l + "\"").collect(java.util.stream.Collectors.joining(", "));
    AtomicFiles.write(repositoryRoot.resolve("fashion-resnet/config.json"), ("{\"kind\": \"image-classifier\","
        + " \"labels\": [" + labels + "]}\n").getBytes(java.nio.charset.StandardCharsets.UTF_8));
    AtomicFiles.copy(modelFile(cache), onnx);
    return true;
  }
}
