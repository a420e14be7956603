/**
 * Gradient-based CNN pruning to a FLOPs target: IFSO and first-order Taylor on per-module input masks, FLOPs
 * bookkeeping, and FLOPs-matched weight-only baselines.
 */
package dev.pruneserve.pruning.ifso;
