package dev.pruneserve.variant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pruneserve.graph.ModelBuilder;
import dev.pruneserve.repository.ModelRepository;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Crash safety with a real kill: a separate JVM writes 16 MB variants in a loop and is killed with
 * SIGKILL while a write is in progress. Afterwards recovery quarantines nothing (no visible variant
 * is partial or corrupt), removes the interrupted staging folder, and every listed variant is
 * complete.
 */
class VariantCrashTest {
  @TempDir Path root;

  @Test
  void aWriterKilledMidWriteLeavesNoVisiblePartialVariant() throws Exception {
    Files.createDirectories(root.resolve("mlp/1"));
    Files.write(root.resolve("mlp/1/model.onnx"), ModelBuilder.mlp("mlp", 1, 4, 8, 2).toByteArray());
    Files.writeString(root.resolve("mlp/config.json"), "{\"kind\":\"generic\"}");
    String cp = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
    Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-cp", cp,
        VariantWriterMain.class.getName(), root.toString()).redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
    try {
      // wait (bounded) until one variant is complete and the next one is being staged, then kill
      for (int i = 0; i < 6000 && !(complete() >= 1 && staging() >= 1); i++) {
        Thread.sleep(10);
      }
    } finally {
      p.destroyForcibly().waitFor();
    }
    assertTrue(complete() >= 1, "the writer completed at least one variant before the kill");
    VariantStore store = new VariantStore(new ModelRepository(root));
    assertEquals(List.of(), store.recover(), "no visible variant is partial or corrupt");
    assertEquals(0, staging(), "interrupted writes are removed");
    assertEquals(complete(), store.list().size());
  }

  private long complete() throws Exception {
    try (Stream<Path> s = Files.list(root)) {
      return s.filter(d -> d.getFileName().toString().startsWith("mlp@")).count();
    }
  }

  private long staging() throws Exception {
    try (Stream<Path> s = Files.list(root)) {
      return s.filter(d -> d.getFileName().toString().startsWith(VariantStore.STAGING)).count();
    }
  }
}
