/**
 * ONNX model building, read-only graph indexing, static shape inference and tensor slicing; depends on nothing but the
 * ONNX protos and knows nothing of pruning or ONNX Runtime.
 */
package dev.pruneserve.graph;
