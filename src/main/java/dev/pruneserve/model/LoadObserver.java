package dev.pruneserve.model;

/**
 * Observes what the {@link ModelRegistry} loads, serves and unloads, and decides whether a request
 * may load an unloaded model on demand (the variant cache implements it). Called from request and
 * loader threads, never under a registry lock; implementations are thread-safe and fast.
 */
public interface LoadObserver {
  LoadObserver NONE = new LoadObserver() {};

  /** A request leased {@code model}. */
  default void served(String model) {}

  /** {@code model} finished loading; its sessions hold about {@code bytes} (measured). */
  default void loaded(String model, long bytes) {}

  /** {@code model} was unloaded (by a client, a delete or an eviction). */
  default void unloaded(String model) {}

  /** Whether a request for {@code model}, which is in the repository but not loaded, may load it now. */
  default boolean loadOnDemand(String model) {
    return false;
  }
}
