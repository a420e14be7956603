/**
 * Reverse-mode differentiation of ONNX graphs, emitted as standard opset-17 ONNX ops so that any inference runtime (CPU
 * or CUDA) can compute the gradients.
 */
package dev.pruneserve.grad;
