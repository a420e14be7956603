/**
 * The only package that touches ONNX Runtime: it owns the process-wide environment and implements the {@code model}
 * package's sessions, carried runs and tensor conversions over ORT.
 */
package dev.pruneserve.runtime;
