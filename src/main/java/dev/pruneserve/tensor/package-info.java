/**
 * Tensors independent of transport and runtime: element types shared by the KServe v2 wire format and ONNX, shapes, and
 * declared tensor specs.
 */
package dev.pruneserve.tensor;
