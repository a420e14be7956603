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
