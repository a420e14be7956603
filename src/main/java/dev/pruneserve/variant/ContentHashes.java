package dev.pruneserve.variant;

import dev.pruneserve.assets.FixtureCache;
import dev.pruneserve.error.ServingException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * sha256 of files (parent models, datasets), each file version hashed once: cached by absolute
 * path, size and modification time. Thread-safe.
 */
final class ContentHashes {
  private final Map<String, String> cache = new ConcurrentHashMap<>();

  /** sha256 (hex) of {@code file}. */
  String sha256(Path file) throws IOException {
    String key = file.toAbsolutePath() + "#" + Files.size(file) + "#" + Files.getLastModifiedTime(file).toMillis();
    try {
      return cache.computeIfAbsent(key, k -> {
        try {
          return FixtureCache.sha256(file);
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      });
    } catch (UncheckedIOException e) {
      throw e.getCause();
    }
  }

  /** As {@link #sha256} for a parent model; an unreadable file → UNAVAILABLE. */
  String parent(Path file) {
    try {
      return sha256(file);
    } catch (IOException e) {
      throw ServingException.unavailable("cannot read the parent model " + file.getParent().getParent().getFileName()
          + ": " + e.getMessage());
    }
  }
}
