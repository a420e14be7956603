/**
 * MINI-LLM: Feature Map Sensitivity scores from zeroth-order (SPSA) gradients using forward passes only, plus the gated
 * and loss-probe calibration copies they run on.
 */
package dev.pruneserve.pruning.zo;
