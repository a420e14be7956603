/**
 * pruneserve's own forward-only search criterion (not a published method): FLAP- or Wanda-SP-ranked MLP channels, and
 * heads chosen by greedy exact ablation on gated copies.
 */
package dev.pruneserve.pruning.search;
