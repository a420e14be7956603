/**
 * Checkpoints users bring: Hugging Face model folders (config.json + safetensors), read and
 * converted into pruneserve's ONNX decoder. Knows nothing of gRPC or ONNX Runtime.
 */
package dev.pruneserve.checkpoint;
