package dev.pruneserve.llm;

/**
 * The shape and numerics of a Llama-family decoder, whatever checkpoint format it came from
 * (llama2.c, Hugging Face llama / mistral / qwen2 / qwen3). Immutable.
 *
 * @param dim hidden size D
 * @param hiddenDim MLP width F
 * @param heads query heads H
 * @param kvHeads key/value heads (H = kvHeads × queries per group; equal without GQA)
 * @param headDim width of one head (H·headDim need not equal D, e.g. Qwen3)
 * @param contextLength the most positions served
 * @param rope the rotary embedding's frequencies
 * @param qkvBias q/k/v projections carry biases (Qwen2; Llama {@code attention_bias})
 * @param outputBias the output projection carries a bias (Llama {@code attention_bias})
 * @param qkNorm per-head RMSNorm on q and k before RoPE (Qwen3)
 * @param tiedEmbeddings the classifier is the token embedding (no separate {@code lm_head})
 */
public record DecoderSpec(int dim, int hiddenDim, int layers, int heads, int kvHeads, int headDim, int vocab,
    int contextLength, float rmsEps, Rope rope, boolean qkvBias, boolean outputBias, boolean qkNorm,
    boolean tiedEmbeddings) {

  public DecoderSpec {
    if (dim <= 0 || hiddenDim <= 0 || layers <= 0 || heads <= 0 || kvHeads <= 0 || headDim <= 0 || vocab <= 0
        || contextLength <= 0) {
      throw new IllegalArgumentException("decoder sizes must be positive");
    }
    if (heads % kvHeads != 0) {
      throw new IllegalArgumentException("num_attention_heads " + heads + " is not a multiple of num_key_value_heads "
          + kvHeads);
    }
    if (headDim % 2 != 0) {
      throw new IllegalArgumentException("head_dim " + headDim + " is odd; rotary embeddings need pairs");
    }
  }

  /** Query heads per key/value head. */
  public int groupSize() {
    return heads / kvHeads;
  }

  public boolean grouped() {
    return kvHeads != heads;
  }

  /**
   * Rotary frequencies: {@code theta^(-2k/headDim)}, rescaled as {@code rope_scaling} says.
   *
   * @param type {@code default}, {@code linear} (positions ÷ factor) or {@code llama3}
   *     (Llama 3.1's band-wise rescaling)
   * @param originalContext {@code original_max_position_embeddings} (llama3 only)
   */
  public record Rope(float theta, String type, double factor, double lowFreqFactor, double highFreqFactor,
      int originalContext) {
    public static Rope plain(float theta) {
      return new Rope(theta, "default", 1, 0, 0, 0);
    }

    /** inv_freq[k] for k in [0, headDim/2), as transformers computes it. */
    public float[] inverseFrequencies(int headDim) {
      float[] inv = new float[headDim / 2];
      for (int k = 0; k < inv.length; k++) {
        double f = 1.0 / Math.pow(theta, 2.0 * k / headDim);
        inv[k] = (float) switch (type) {
          case "linear" -> f / factor;
          case "llama3" -> llama3(f);
          default -> f;
        };
      }
      return inv;
    }

    private double llama3(double f) {
      double lowWavelen = originalContext / lowFreqFactor;
      double highWavelen = originalContext / highFreqFactor;
      double wavelen = 2 * Math.PI / f;
      if (wavelen < highWavelen) {
        return f;
      }
      if (wavelen > lowWavelen) {
        return f / factor;
      }
      double smooth = (originalContext / wavelen - lowFreqFactor) / (highFreqFactor - lowFreqFactor);
      return (1 - smooth) * f / factor + smooth * f;
    }
  }
}
