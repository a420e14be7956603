package dev.pruneserve.testing;

import dev.pruneserve.assets.FixtureCache;
import dev.pruneserve.assets.Stories15m;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;

/**
 * Fixture access for tests: fetches into the default cache on first use. When fetching fails, the
 * test is skipped with the reason on a developer machine and fails in CI ({@code CI} set), where
 * .ci/run guarantees the registries are reachable.
 */
public final class Fixtures {
  private Fixtures() {}

  /**
   * For gRPC tests on a fixture model of the test repository: skip (developer machine) or fail (CI)
   * when it is not loaded because its fixture could not be had.
   */
  public static void requireLoaded(String model, boolean ready) {
    String why = model + " is not in the test repository (its fixture could not be fetched; see the log)";
    if (!ready && System.getenv("CI") != null) {
      Assertions.fail(why);
    }
    Assumptions.assumeTrue(ready, why);
  }

  /**
   * {@code data/stories15m/<file>} in the repository (tests run with the repository root as working
   * directory). The data is committed (see data/stories15m/README.md), so a missing file is an error,
   * never a skip.
   *
   * @throws IllegalStateException when the file is not there
   */
  public static java.nio.file.Path stories15mData(String file) {
    java.nio.file.Path p = java.nio.file.Path.of("data", "stories15m", file);
    if (!java.nio.file.Files.isRegularFile(p)) {
      throw new IllegalStateException("stories15M data file " + p.toAbsolutePath()
          + " is missing: it is committed under data/stories15m/ of the repository, and tests must run"
          + " with the repository root as working directory");
    }
    return p;
  }

  /** The MiniLM ONNX model file from the fixture cache (the build copies its jar there). */
  public static java.nio.file.Path minilm() {
    FixtureCache cache = FixtureCache.defaultCache();
    ensureOrSkip("MiniLM", () -> dev.pruneserve.assets.MiniLm.ensure(cache));
    return dev.pruneserve.assets.MiniLm.modelFile(cache);
  }

  /** The folder with Qwen3's tokenizer.json and tokenizer_config.json. */
  public static java.nio.file.Path qwen3Tokenizer() {
    FixtureCache cache = FixtureCache.defaultCache();
    ensureOrSkip("Qwen3 tokenizer", () -> dev.pruneserve.assets.Qwen3Tokenizer.ensure(cache));
    return dev.pruneserve.assets.Qwen3Tokenizer.dir(cache);
  }

  public static FixtureCache stories15m() {
    FixtureCache cache = FixtureCache.defaultCache();
    ensureOrSkip("stories15M", () -> Stories15m.ensure(cache));
    return cache;
  }

  private interface Fetch {
    void run() throws Exception;
  }

  /** Runs a fixture fetch; on failure fails in CI and skips (with the reason) elsewhere. */
  private static void ensureOrSkip(String what, Fetch fetch) {
    try {
      fetch.run();
    } catch (Exception e) {
      String why = what + " fixture unavailable: " + e.getMessage();
      if (System.getenv("CI") != null) {
        Assertions.fail(why, e);
      }
      System.err.println("SKIPPED: " + why);
      Assumptions.abort(why);
    }
  }
}
