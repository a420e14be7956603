/**
 * Recovery after pruning without training: least-squares reconstruction of the projections that
 * read pruned channels, from calibration Gram matrices; no ONNX Runtime types, no gRPC.
 */
package dev.pruneserve.pruning.recovery;
