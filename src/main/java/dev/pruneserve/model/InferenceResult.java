package dev.pruneserve.model;

import dev.pruneserve.tensor.Tensor;
import java.util.List;

/** Outputs of one inference, with the version that actually served it. */
public record InferenceResult(String model, String version, List<Tensor> outputs) {}
