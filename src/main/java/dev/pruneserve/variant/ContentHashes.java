package dev.pruneserve.variant;

import dev.pruneserve.error.ServingException;
import java.io.IOException;
import java.nio.file.Path;

/** sha256 of parent models and datasets ({@link dev.pruneserve.repository.FileHashes}). Thread-safe. */
final class ContentHashes {
  private final dev.pruneserve.repository.FileHashes files = new dev.pruneserve.repository.FileHashes();

  /** sha256 (hex) of {@code file}. */
  String sha256(Path file) throws IOException {
    return files.sha256(file);
  }

  /** As {@link #sha256} for a parent model; an unreadable file → UNAVAILABLE. */
  String parent(Path file) {
    try {
      return files.model(file); // with its external data files, if any

    } catch (IOException e) {
      throw ServingException.unavailable("cannot read the parent model " + file.getParent().getParent().getFileName()
          + ": " + e.getMessage());
    }
  }
}
