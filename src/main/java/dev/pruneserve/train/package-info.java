/**
 * Training of image classifiers on ONNX Runtime through generated backward graphs: training graphs with per-module
 * input masks, SGD, the ResNet-style model and NumPy image sets.
 */
package dev.pruneserve.train;
