/**
 * Transformer structure found by graph pattern, never by tensor name (attention heads through RoPE
 * and the KV cache, gated MLPs, plain FFNs: {@code DecoderStructure}) and the surgery that removes
 * heads and channels consistently.
 */
package dev.pruneserve.pruning.transformer;
