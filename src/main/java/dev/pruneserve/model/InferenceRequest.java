package dev.pruneserve.model;

import dev.pruneserve.tensor.Tensor;
import java.util.List;

/**
 * A transport-independent inference call.
 *
 * @param version {@code ""} = latest loaded version
 * @param outputs names of the outputs wanted; empty = all
 */
public record InferenceRequest(String model, String version, List<Tensor> inputs, List<String> outputs) {}
