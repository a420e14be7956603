package dev.pruneserve.llm;

import java.nio.FloatBuffer;

/**
 * A decoder's FP32 weights by Hugging Face name ({@code model.embed_tokens.weight},
 * {@code model.layers.{i}.self_attn.q_proj.weight}, …), in Hugging Face layout: linear weights
 * [out, in] row-major, q/k rows in rotate-half order. Implementations convert F16/BF16 on read.
 */
public interface DecoderWeights {
  /** The tensor, read-only, exactly {@code elements} floats; fails naming the tensor if absent or sized otherwise. */
  FloatBuffer get(String name, long elements);

  boolean contains(String name);
}
