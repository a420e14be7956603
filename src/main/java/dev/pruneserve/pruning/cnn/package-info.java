/**
 * CNN channel pruning: discovery of coupled channel groups in NCHW models by graph pattern, weight-only channel
 * criteria, and surgery.
 */
package dev.pruneserve.pruning.cnn;
