package dev.pruneserve.model;

import dev.pruneserve.session.ModelSession;
import java.util.concurrent.atomic.AtomicBoolean;

/** Keeps a {@link ModelHandle}'s session open while held. Close it exactly where the work ends. */
public final class Lease implements AutoCloseable {
  private final ModelHandle handle;
  private final AtomicBoolean closed = new AtomicBoolean();

  Lease(ModelHandle handle) {
    this.handle = handle;
  }

  public ModelSession session() {
    return handle.session();
  }

  public String version() {
    return handle.version();
  }

  /** The model that serves this lease (the alias target when the request named an alias). */
  public String model() {
    return handle.model();
  }

  /** That model's folder in the repository. */
  public java.nio.file.Path directory() {
    return handle.directory();
  }

  /** The config.json this version was loaded with (consistent with {@link #session()}). */
  public dev.pruneserve.repository.ModelConfigFile config() {
    return handle.config();
  }

  /** Releases the reference; idempotent. */
  @Override
  public void close() {
    if (closed.compareAndSet(false, true)) {
      handle.release();
    }
  }
}
