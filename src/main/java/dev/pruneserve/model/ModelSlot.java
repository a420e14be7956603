package dev.pruneserve.model;

import dev.pruneserve.repository.ModelConfigFile;
import java.util.NavigableMap;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Registry entry of one model name. {@code served} is swapped atomically as a whole (all versions
 * at once); {@code lifecycle} serialises load/unload of this model, never inference.
 */
final class ModelSlot {
  /** The versions currently routed to, with the config they were loaded with. Immutable. */
  record Served(ModelConfigFile config, NavigableMap<Long, ModelHandle> versions) {
    void retireAll() {
      versions.values().forEach(ModelHandle::retire);
    }
  }

  final String name;
  final ReentrantLock lifecycle = new ReentrantLock();
  volatile Served served;
  volatile ModelState state = ModelState.UNAVAILABLE;
  volatile String reason = "not loaded";

  ModelSlot(String name) {
    this.name = name;
  }

  void set(ModelState state, String reason) {
    this.state = state;
    this.reason = reason;
  }
}
