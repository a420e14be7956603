package dev.pruneserve.llm;

import dev.pruneserve.assets.FixtureCache;
import dev.pruneserve.assets.Stories15m;
import dev.pruneserve.repository.AtomicFiles;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.jboss.logging.Logger;

/**
 * Puts stories15M into a model repository as {@code <root>/stories15m/1/model.onnx} with its
 * tokenizer and a config.json (kind causal-lm, context 256), fetching and converting on first use.
 */
public final class Stories15mImport {
  public static final String MODEL_NAME = "stories15m";
  private static final Logger LOG = Logger.getLogger(Stories15mImport.class);

  private Stories15mImport() {}

  /** No-op when the model folder already holds a model; otherwise fetch, convert, write. */
  public static void installIfAbsent(FixtureCache cache, Path repositoryRoot) throws IOException {
    Path dir = repositoryRoot.resolve(MODEL_NAME);
    Path onnx = dir.resolve("1").resolve("model.onnx");
    if (Files.isRegularFile(onnx)) {
      return;
    }
    Stories15m.ensure(cache);
    long t0 = System.nanoTime();
    Llama2cCheckpoint ck = Llama2cCheckpoint.read(Stories15m.modelFile(cache));
    byte[] model = LlamaOnnxExporter.export(ck, "stories15M (llama2.c, tinyllamas)").toByteArray();
    Files.createDirectories(dir);
    AtomicFiles.write(dir.resolve("tokenizer.bin"), Files.readAllBytes(Stories15m.tokenizerFile(cache)));
    AtomicFiles.write(dir.resolve("config.json"), ("{\"kind\": \"causal-lm\", \"tokenizer\": "
        + "\"tokenizer.bin\", \"context_length\": " + ck.seqLen + "}\n").getBytes(StandardCharsets.UTF_8));
    AtomicFiles.write(onnx, model);
    LOG.infof("converted stories15M to ONNX (%d MB) in %d ms: %s", model.length >> 20,
        (System.nanoTime() - t0) / 1_000_000, onnx);
  }
}
