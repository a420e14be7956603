package dev.pruneserve.session;

import java.nio.file.Path;

/** Creates sessions from model files. Implemented by the runtime package. Thread-safe. */
public interface SessionLoader {
  /**
   * Loads {@code file}; {@code label} (e.g. {@code "mlp/1"}) names the session in logs and counters.
   *
   * @throws dev.pruneserve.error.ServingException with a user-facing reason when the file cannot
   *     be loaded
   */
  ModelSession load(String label, Path file);
}
