/**
 * The Triton-style model repository on disk ({@code <root>/<model>/<version>/model.onnx} and an optional
 * {@code config.json}), model-name validation, atomic file writes and the demo model.
 */
package dev.pruneserve.repository;
