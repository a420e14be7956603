package dev.pruneserve.repository;

import java.nio.file.Path;

/**
 * Converts model folders that hold a checkpoint rather than version folders (e.g. a Hugging Face
 * folder copied as it is) into a servable model file. Implementations are thread-safe and cache
 * conversions by content, so calling {@link #modelFile} again is cheap.
 */
public interface CheckpointImport {
  /** None: every folder is a plain Triton-style model folder. */
  CheckpointImport NONE = new CheckpointImport() {
    @Override
    public boolean recognises(Path dir) {
      return false;
    }

    @Override
    public Path modelFile(Path dir) {
      throw new IllegalStateException("no checkpoint import");
    }

    @Override
    public ModelConfigFile defaults(Path dir) {
      return ModelConfigFile.DEFAULT;
    }
  };

  /** Whether {@code dir}'s {@code config.json} describes a checkpoint this import converts. */
  boolean recognises(Path dir);

  /**
   * The converted model file, converting on first use.
   *
   * @throws dev.pruneserve.error.ServingException FAILED_PRECONDITION naming the key or tensor
   *     that cannot be converted
   */
  Path modelFile(Path dir);

  /** The serving settings the checkpoint implies (kind, tokenizer, context length). */
  ModelConfigFile defaults(Path dir);
}
