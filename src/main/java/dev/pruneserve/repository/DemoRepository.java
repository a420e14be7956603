package dev.pruneserve.repository;

import dev.pruneserve.graph.ModelBuilder;
import java.io.IOException;
import java.nio.file.Path;
import org.jboss.logging.Logger;

/**
 * Writes the demo model into an empty repository: {@code demo-mlp}, a generated 16→64→64→4 ReLU MLP
 * (seed 42), input {@code x [batch,16]} FP32, output {@code y [batch,4]}. It stands in until the
 * stories15M / MiniLM fixtures become the embedded default.
 */
public final class DemoRepository {
  public static final String DEMO_MODEL = "demo-mlp";
  private static final Logger LOG = Logger.getLogger(DemoRepository.class);

  private DemoRepository() {}

  /** Writes the demo when {@code root} has no model folders; atomic per file. */
  public static void populateIfEmpty(ModelRepository repo) throws IOException {
    if (!repo.modelNames().isEmpty()) {
      return;
    }
    Path file = repo.root().resolve(DEMO_MODEL).resolve("1").resolve(ModelRepository.MODEL_FILE);
    AtomicFiles.write(file, ModelBuilder.mlp(DEMO_MODEL, 42, 16, 64, 64, 4).toByteArray());
    LOG.infof("empty model repository: wrote the generated demo model %s", file);
  }
}
