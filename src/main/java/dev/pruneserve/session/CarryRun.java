package dev.pruneserve.session;

import dev.pruneserve.tensor.Tensor;
import java.util.Map;
import java.util.Set;

/**
 * A sequence of runs on one session where some outputs of each run become inputs of the next
 * without leaving the runtime (e.g. a KV cache: {@code present.*} → {@code past_key_values.*}).
 * Not thread-safe; owned by one caller, who must hold a lease on the session while it is open and
 * close it when done.
 */
public interface CarryRun extends AutoCloseable {
  /**
   * Runs once. {@code inputs} are the fresh inputs; carried inputs come from the previous step (or
   * from {@code initial} given at open). Returns the {@code returned} outputs as tensors.
   */
  Map<String, Tensor> step(Map<String, Tensor> inputs, Set<String> returned);

  /**
   * Copies out the carried inputs the next step would be fed (after a step: the carried outputs
   * of that step; before the first: {@code initial}). For rebuilding a batched cache.
   */
  Map<String, Tensor> carried();

  @Override
  void close();
}
