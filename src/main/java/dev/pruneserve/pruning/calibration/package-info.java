/**
 * Calibration passes on ONNX Runtime: in-graph activation taps that reduce to per-channel sums, and
 * the in-graph causal-LM loss; only reduced statistics leave the runtime.
 */
package dev.pruneserve.pruning.calibration;
