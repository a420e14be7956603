package dev.pruneserve.model;

import dev.pruneserve.repository.ModelConfigFile;
import dev.pruneserve.tensor.TensorSpec;
import java.util.List;

/**
 * Read-only description of a loaded model version for metadata RPCs.
 *
 * @param versions every loaded version of the model, ascending
 * @param sizeBytes bytes held by the version's session
 */
public record ModelView(
    String name,
    String version,
    List<String> versions,
    ModelConfigFile config,
    List<TensorSpec> inputs,
    List<TensorSpec> outputs,
    long sizeBytes) {}
