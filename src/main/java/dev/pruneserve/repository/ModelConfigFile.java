package dev.pruneserve.repository;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.List;

/**
 * The optional {@code <repo>/<model>/config.json}. Unknown keys are ignored so that later releases
 * can add fields.
 *
 * @param kind what the model is: {@code generic} (default), {@code causal-lm}, {@code encoder},
 *     {@code image-classifier}
 * @param tokenizer tokenizer file relative to the model folder, if any
 * @param labels class labels for classifiers, in output order
 * @param maxBatchSize Triton's {@code max_batch_size}; 0 (default) = shapes are reported whole
 * @param warmup run one inference on zero inputs before the model is READY (default true)
 * @param contextLength causal LMs: the most positions (prompt + generated) the model supports
 * @param allowUnguardedNativeOps serve a model although an integer Div/Mod divisor is computed in
 *     the graph (docs: native-crash safety); default false: such a model is refused at load
 * @param warmupShapes per input, the shape warm-up feeds (dynamic dims otherwise 1)
 * @param pooling encoders: how token vectors become one embedding, {@code mean} (default), {@code cls}
 *     or {@code last}
 * @param generation causal LMs: continuous batching settings ({@link GenerationSettings})
 * @param dynamicBatching opt-in dynamic batching of ModelInfer requests ({@link DynamicBatching})
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record ModelConfigFile(
    @JsonProperty("kind") String kind,
    @JsonProperty("tokenizer") String tokenizer,
    @JsonProperty("labels") List<String> labels,
    @JsonProperty("max_batch_size") Integer maxBatchSize,
    @JsonProperty("warmup") Boolean warmup,
    @JsonProperty("context_length") Integer contextLength,
    @JsonProperty("allow_unguarded_native_ops") Boolean allowUnguardedNativeOps,
    @JsonProperty("warmup_shapes") java.util.Map<String, List<Long>> warmupShapes,
    @JsonProperty("pooling") String pooling,
    @JsonProperty("generation") GenerationSettings generation,
    @JsonProperty("dynamic_batching") DynamicBatching dynamicBatching) {

  public static final String CAUSAL_LM = "causal-lm";
  public static final String ENCODER = "encoder";
  public static final ModelConfigFile DEFAULT = new ModelConfigFile(null, null, null, null, null, null, null, null,
      null, null, null);

  /** This file's settings, each absent one taken from {@code defaults}. */
  public ModelConfigFile over(ModelConfigFile defaults) {
    return new ModelConfigFile(kind != null ? kind : defaults.kind, tokenizer != null ? tokenizer : defaults.tokenizer,
        labels != null ? labels : defaults.labels, maxBatchSize != null ? maxBatchSize : defaults.maxBatchSize,
        warmup != null ? warmup : defaults.warmup, contextLength != null ? contextLength : defaults.contextLength,
        allowUnguardedNativeOps != null ? allowUnguardedNativeOps : defaults.allowUnguardedNativeOps,
        warmupShapes != null ? warmupShapes : defaults.warmupShapes, pooling != null ? pooling : defaults.pooling,
        generation != null ? generation : defaults.generation,
        dynamicBatching != null ? dynamicBatching : defaults.dynamicBatching);
  }

  public String kindOrDefault() {
    return kind == null ? "generic" : kind;
  }

  public int maxBatchSizeOrDefault() {
    return maxBatchSize == null ? 0 : maxBatchSize;
  }

  public GenerationSettings generationOrDefault() {
    return generation == null ? GenerationSettings.DEFAULT : generation;
  }

  /** The settings' first problem (generation, dynamic_batching), or null when they are valid. */
  public String problem() {
    String p = generation == null ? null : generation.problem();
    return p != null || dynamicBatching == null ? p : dynamicBatching.problem(maxBatchSizeOrDefault());
  }

  public boolean warmupOrDefault() {
    return warmup == null || warmup;
  }

  public java.util.Map<String, List<Long>> warmupShapesOrEmpty() {
    return warmupShapes == null ? java.util.Map.of() : warmupShapes;
  }

  /** Serve a model whose integer divisors are computed in the graph (a zero one crashes the process). */
  public boolean allowsUnguardedNativeOps() {
    return allowUnguardedNativeOps != null && allowUnguardedNativeOps;
  }

  public List<String> labelsOrEmpty() {
    return labels == null ? List.of() : labels;
  }
}
