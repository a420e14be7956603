package dev.pruneserve.repository;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * sha256 of files (models, checkpoint weights, datasets), each file version hashed once: cached
 * by absolute path, size and modification time. Thread-safe.
 */
public final class FileHashes {
  private final Map<String, String> cache = new ConcurrentHashMap<>();

  /** sha256 (hex) of {@code file}. */
  public String sha256(Path file) throws IOException {
    String key = file.toAbsolutePath() + "#" + Files.size(file) + "#" + Files.getLastModifiedTime(file).toMillis();
    try {
      return cache.computeIfAbsent(key, k -> {
        try {
          return of(file);
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      });
    } catch (UncheckedIOException e) {
      throw e.getCause();
    }
  }

  /**
   * sha256 (hex) of a model: of {@code file} alone when it is the only file of its folder, else
   * {@link #combine} over every regular file there (external data files, whatever their names).
   */
  public String model(Path file) throws IOException {
    java.util.TreeMap<String, String> files = new java.util.TreeMap<>();
    try (var list = Files.list(file.toAbsolutePath().getParent())) {
      for (Path f : (Iterable<Path>) list::iterator) {
        String n = f.getFileName().toString();
        if (Files.isRegularFile(f) && !n.startsWith(".")) {
          files.put(n, sha256(f));
        }
      }
    }
    return files.size() == 1 ? sha256(file) : combine(files);
  }

  /** sha256 (hex) of the lines "name sha256\n" in name order: a model file and its data files as one. */
  public static String combine(java.util.SortedMap<String, String> shaByName) {
    StringBuilder b = new StringBuilder();
    shaByName.forEach((n, h) -> b.append(n).append(' ').append(h).append('\n'));
    return HexFormat.of().formatHex(sha256().digest(b.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8)));
  }

  /** sha256 (hex) of {@code file}, read now (no cache). */
  public static String of(Path file) throws IOException {
    MessageDigest md = sha256();
    try (InputStream in = Files.newInputStream(file)) {
      byte[] buf = new byte[1 << 16];
      for (int n; (n = in.read(buf)) > 0;) {
        md.update(buf, 0, n);
      }
    }
    return HexFormat.of().formatHex(md.digest());
  }

  /** A fresh SHA-256 digest. */
  public static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
