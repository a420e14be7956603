/** LLM-Pruner's block-wise Element¹ criterion with true gradients from generated backward graphs. */
package dev.pruneserve.pruning.taylor;
