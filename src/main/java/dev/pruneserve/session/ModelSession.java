package dev.pruneserve.session;

import dev.pruneserve.tensor.Tensor;
import dev.pruneserve.tensor.TensorSpec;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * One loaded, runnable model version (implemented by the runtime package over an ORT session).
 *
 * <p>Threading: {@link #run} may be called from many threads at once. {@link #close} must only be
 * called once no {@code run} is in flight; {@code ModelHandle} guarantees that. Ownership: the
 * handle that wraps the session owns it.
 */
public interface ModelSession extends AutoCloseable {
  List<TensorSpec> inputs();

  List<TensorSpec> outputs();

  /**
   * Runs the model. {@code inputs} are already validated against {@link #inputs()}; {@code
   * outputNames} is a non-empty subset of the declared outputs. Returned tensors are owned by the
   * caller, in the order of {@code outputNames}' iteration.
   */
  Map<String, Tensor> run(Map<String, Tensor> inputs, Set<String> outputNames);

  /**
   * Opens a {@link CarryRun}: output {@code k} of each step feeds input {@code carry.get(k)} of the
   * next; {@code initial} gives the carried inputs of the first step.
   */
  CarryRun openCarryRun(Map<String, String> carry, Map<String, Tensor> initial);

  /** Bytes this session holds, as measured at load (host RSS delta or file size estimate). */
  long sizeBytes();

  /** Releases native resources; idempotent. */
  @Override
  void close();
}
