/**
 * Scoring criteria for transformer groups and their selection: weight-only (random, magnitude),
 * Wanda-SP and FLAP (fluctuation metric, global allocation, bias compensation).
 */
package dev.pruneserve.pruning.criteria;
