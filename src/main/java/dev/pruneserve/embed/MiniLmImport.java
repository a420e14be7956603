package dev.pruneserve.embed;

import dev.pruneserve.assets.FixtureCache;
import dev.pruneserve.assets.MiniLm;
import dev.pruneserve.repository.AtomicFiles;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.jboss.logging.Logger;

/** Puts all-MiniLM-L6-v2 into a repository as {@code <root>/minilm/1/model.onnx} (kind encoder). */
public final class MiniLmImport {
  public static final String MODEL_NAME = "minilm";
  private static final Logger LOG = Logger.getLogger(MiniLmImport.class);

  private MiniLmImport() {}

  public static void installIfAbsent(FixtureCache cache, Path repositoryRoot) throws IOException {
    Path dir = repositoryRoot.resolve(MODEL_NAME);
    Path onnx = dir.resolve("1").resolve("model.onnx");
    if (Files.isRegularFile(onnx)) {
      return;
    }
    MiniLm.ensure(cache);
    AtomicFiles.copy(MiniLm.tokenizerFile(cache), dir.resolve("tokenizer.json"));
    AtomicFiles.write(dir.resolve("config.json"),
        "{\"kind\": \"encoder\", \"tokenizer\": \"tokenizer.json\"}\n".getBytes(StandardCharsets.UTF_8));
    AtomicFiles.copy(MiniLm.modelFile(cache), onnx);
    LOG.infof("installed all-MiniLM-L6-v2 into %s", dir);
  }
}
