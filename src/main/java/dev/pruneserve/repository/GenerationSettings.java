package dev.pruneserve.repository;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * The {@code generation} block of a causal LM's config.json: how its generations are batched.
 * Absent fields take the defaults below (chosen by measurement, docs/benchmarks.md).
 *
 * @param maxBatch sequences decoded together in one step (continuous batching); 1 = every
 *     generation runs its own batch-1 loop
 * @param maxWaiting generations admitted but not yet decoding; beyond it a request is answered
 *     RESOURCE_EXHAUSTED
 * @param kv {@code padded} (default): one batched cache that stays in the runtime, left-padded and
 *     masked, rebuilt only when sequences join or enough have left; {@code gathered}: each
 *     sequence's cache is gathered into a fresh batch every step (measured: slower)
 * @param prefillTokens the most padded prompt tokens prefilled in one run (prompts that arrive
 *     together are prefilled together up to this budget; a longer prompt runs alone)
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record GenerationSettings(
    @JsonProperty("max_batch") Integer maxBatch,
    @JsonProperty("max_waiting") Integer maxWaiting,
    @JsonProperty("kv") String kv,
    @JsonProperty("prefill_tokens") Integer prefillTokens) {
  public static final int DEFAULT_MAX_BATCH = 32;
  public static final int DEFAULT_MAX_WAITING = 256;
  public static final int DEFAULT_PREFILL_TOKENS = 512;
  public static final GenerationSettings DEFAULT = new GenerationSettings(null, null, null, null);

  public int maxBatchOrDefault() {
    return maxBatch == null ? DEFAULT_MAX_BATCH : maxBatch;
  }

  public int maxWaitingOrDefault() {
    return maxWaiting == null ? DEFAULT_MAX_WAITING : maxWaiting;
  }

  public boolean gathered() {
    return "gathered".equals(kv);
  }

  public int prefillTokensOrDefault() {
    return prefillTokens == null ? DEFAULT_PREFILL_TOKENS : prefillTokens;
  }

  /** The problem with these settings, or null when they are valid. */
  public String problem() {
    if (maxBatch != null && maxBatch < 1) {
      return "generation.max_batch is " + maxBatch + "; it must be at least 1";
    }
    if (maxWaiting != null && maxWaiting < 0) {
      return "generation.max_waiting is " + maxWaiting + "; it must be 0 or more";
    }
    if (kv != null && !kv.equals("padded") && !kv.equals("gathered")) {
      return "generation.kv is '" + kv + "'; it must be \"padded\" or \"gathered\"";
    }
    if (prefillTokens != null && prefillTokens < 1) {
      return "generation.prefill_tokens is " + prefillTokens + "; it must be at least 1";
    }
    return null;
  }
}
