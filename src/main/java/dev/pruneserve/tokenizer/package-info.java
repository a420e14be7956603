/**
 * Text to token ids and back: llama2.c BPE and Hugging Face {@code tokenizer.json} through DJL, which no other package
 * touches.
 */
package dev.pruneserve.tokenizer;
