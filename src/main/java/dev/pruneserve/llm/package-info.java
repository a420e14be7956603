/**
 * Causal-LM serving: llama2.c import into an ONNX decoder, KV-cache decoding, sampling, stop strings and streamed
 * generation over leased sessions, plus self-sampled calibration data.
 */
package dev.pruneserve.llm;
