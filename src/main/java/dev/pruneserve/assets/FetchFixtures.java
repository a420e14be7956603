package dev.pruneserve.assets;

import java.io.IOException;

/**
 * Command line: fetches and verifies every fixture into the cache ({@code $PRUNESERVE_CACHE} or
 * {@code ~/.cache/pruneserve}); exits 1 with the reason when one cannot be had. Run with
 * {@code ./mvnw -B -q -Pfixtures process-classes} (used by .ci/run; the server and the tests call
 * the same code on first use).
 */
public final class FetchFixtures {
  private FetchFixtures() {}

  public static void main(String[] args) {
    FixtureCache cache = FixtureCache.defaultCache();
    try {
      Stories15m.ensure(cache);
      System.out.println("stories15M ok: " + Stories15m.modelFile(cache) + ", " + Stories15m.tokenizerFile(cache));
      MiniLm.ensure(cache);
      System.out.println("all-MiniLM-L6-v2 ok: " + MiniLm.modelFile(cache) + ", " + MiniLm.tokenizerFile(cache));
      System.out.println("Qwen3 tokenizer ok: " + Qwen3Tokenizer.ensure(cache));
      ThirdPartyOnnx.ensure(cache);
      System.out.println("third-party ONNX models ok: " + cache.resolve("third-party"));
    } catch (IOException e) {
      System.err.println("fixture fetch failed: " + e.getMessage());
      System.exit(1);
    }
  }
}
