package dev.pruneserve.repository;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.List;

/**
 * Triton's {@code dynamic_batching} block of config.json: ModelInfer requests to a model with
 * {@code max_batch_size > 0} are queued and run together, concatenated along the batch dimension.
 *
 * @param preferredBatchSize batch sizes to run as soon as they are reached (default: none, so
 *     {@code max_batch_size})
 * @param maxQueueDelayMicroseconds how long the first queued request waits for others (default 0:
 *     only requests already waiting join it)
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record DynamicBatching(
    @JsonProperty("preferred_batch_size") List<Integer> preferredBatchSize,
    @JsonProperty("max_queue_delay_microseconds") Long maxQueueDelayMicroseconds) {

  public List<Integer> preferredOrEmpty() {
    return preferredBatchSize == null ? List.of() : preferredBatchSize;
  }

  public long delayMicrosOrDefault() {
    return maxQueueDelayMicroseconds == null ? 0 : maxQueueDelayMicroseconds;
  }

  /** The problem with this block for a model with {@code maxBatchSize}, or null when valid. */
  public String problem(int maxBatchSize) {
    if (maxBatchSize <= 0) {
      return "dynamic_batching needs max_batch_size > 0 (the model's first dimension is the batch)";
    }
    for (int p : preferredOrEmpty()) {
      if (p < 1 || p > maxBatchSize) {
        return "dynamic_batching.preferred_batch_size " + p + " is outside 1.." + maxBatchSize
            + " (max_batch_size)";
      }
    }
    if (delayMicrosOrDefault() < 0 || delayMicrosOrDefault() > 10_000_000) {
      return "dynamic_batching.max_queue_delay_microseconds is " + delayMicrosOrDefault()
          + "; it must be within 0..10000000";
    }
    return null;
  }
}
