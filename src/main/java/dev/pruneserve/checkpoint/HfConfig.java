package dev.pruneserve.checkpoint;

import com.fasterxml.jackson.databind.JsonNode;
import dev.pruneserve.llm.DecoderSpec;
import java.util.List;
import java.util.Set;

/**
 * A Hugging Face {@code config.json} read as a {@link DecoderSpec}. Families: {@code llama}
 * (incl. {@code rope_scaling} {@code linear} and {@code llama3}, {@code attention_bias}),
 * {@code mistral} (the served context is capped at {@code sliding_window}, where the sliding
 * window starts to matter), {@code qwen2} (q/k/v biases), {@code qwen3} (per-head q/k RMSNorm).
 * Anything else, or an option that changes the computation and is not built, fails with
 * {@link UnsupportedCheckpointException} naming the key.
 */
public final class HfConfig {
  public static final Set<String> FAMILIES = Set.of("llama", "mistral", "qwen2", "qwen3");

  private HfConfig() {}

  /** Whether {@code json} is a checkpoint's config (it names a {@code model_type} or {@code architectures}). */
  public static boolean isCheckpoint(JsonNode json) {
    return json.path("model_type").isTextual() || json.path("architectures").isArray();
  }

  public static DecoderSpec spec(JsonNode c) {
    String type = c.path("model_type").asText("");
    if (!FAMILIES.contains(type)) {
      throw new UnsupportedCheckpointException("model_type '" + type + "' is not supported; supported: "
          + List.copyOf(new java.util.TreeSet<>(FAMILIES)));
    }
    String act = c.path("hidden_act").asText("silu");
    if (!act.equals("silu")) {
      throw new UnsupportedCheckpointException("hidden_act '" + act + "' is not supported (silu only)");
    }
    if (c.path("mlp_bias").asBoolean(false)) {
      throw new UnsupportedCheckpointException("mlp_bias true is not supported");
    }
    if (c.path("use_sliding_window").asBoolean(false)) {
      throw new UnsupportedCheckpointException("use_sliding_window true is not supported");
    }
    int dim = required(c, "hidden_size");
    int heads = required(c, "num_attention_heads");
    int kvHeads = c.path("num_key_value_heads").isInt() ? c.get("num_key_value_heads").asInt() : heads;
    int headDim = c.path("head_dim").isInt() ? c.get("head_dim").asInt() : dim / heads;
    int context = required(c, "max_position_embeddings");
    if (type.equals("mistral") && c.path("sliding_window").isInt()) {
      context = Math.min(context, c.get("sliding_window").asInt());
    }
    boolean attentionBias = c.path("attention_bias").asBoolean(false);
    boolean qkvBias = type.equals("qwen2") || attentionBias;
    try {
      return new DecoderSpec(dim, required(c, "intermediate_size"), required(c, "num_hidden_layers"), heads, kvHeads,
          headDim, required(c, "vocab_size"), context, (float) c.path("rms_norm_eps").asDouble(1e-6), rope(c), qkvBias,
          attentionBias, type.equals("qwen3"), c.path("tie_word_embeddings").asBoolean(false));
    } catch (IllegalArgumentException e) {
      throw new UnsupportedCheckpointException(e.getMessage());
    }
  }

  /**
   * RoPE from {@code rope_theta} + {@code rope_scaling}, or from {@code rope_parameters} (how
   * transformers 5 writes both); a partial rotary factor is refused.
   */
  private static DecoderSpec.Rope rope(JsonNode c) {
    JsonNode params = c.path("rope_parameters");
    JsonNode s = params.isObject() ? params : c.path("rope_scaling");
    double partial = c.path("partial_rotary_factor").asDouble(s.path("partial_rotary_factor").asDouble(1));
    if (partial != 1) {
      throw new UnsupportedCheckpointException("partial_rotary_factor " + partial + " is not supported (1 only)");
    }
    float theta = (float) (params.isObject() ? params.path("rope_theta").asDouble(c.path("rope_theta").asDouble(10000))
        : c.path("rope_theta").asDouble(10000));
    if (s.isMissingNode() || s.isNull()) {
      return DecoderSpec.Rope.plain(theta);
    }
    String type = s.path("rope_type").asText(s.path("type").asText("default"));
    double factor = s.path("factor").asDouble(1);
    return switch (type) {
      case "default" -> DecoderSpec.Rope.plain(theta);
      case "linear" -> new DecoderSpec.Rope(theta, "linear", factor, 0, 0, 0);
      case "llama3" -> new DecoderSpec.Rope(theta, "llama3", factor, s.path("low_freq_factor").asDouble(1),
          s.path("high_freq_factor").asDouble(4), requiredIn(s, "original_max_position_embeddings"));
      default -> throw new UnsupportedCheckpointException("rope_type '" + type
          + "' (rope_scaling / rope_parameters) is not supported (default, linear, llama3)");
    };
  }

  private static int required(JsonNode c, String key) {
    if (!c.path(key).canConvertToInt() || c.get(key).asInt() <= 0) {
      throw new UnsupportedCheckpointException("config.json: '" + key + "' is missing or not a positive integer");
    }
    return c.get(key).asInt();
  }

  private static int requiredIn(JsonNode s, String key) {
    if (!s.path(key).canConvertToInt()) {
      throw new UnsupportedCheckpointException("config.json: 'rope_scaling." + key + "' is missing");
    }
    return s.get(key).asInt();
  }
}
