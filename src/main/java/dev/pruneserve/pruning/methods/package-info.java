/**
 * Pruning recipes and the one dispatch from a recipe to every method, shared by the Prune RPC and the command line (one
 * recipe parser, one set of defaults); every result is validated in ONNX Runtime before it is returned.
 */
package dev.pruneserve.pruning.methods;
