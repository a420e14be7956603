package dev.pruneserve.llm;

import dev.pruneserve.error.ServingException;
import java.util.List;

/**
 * Decoding parameters, already defaulted. {@code temperature == 0} is greedy; {@code topK == 0}
 * and {@code topP == 1} disable those filters; {@code repetitionPenalty == 1} disables it.
 */
public record SamplingParams(int maxNewTokens, float temperature, int topK, float topP,
    float repetitionPenalty, long seed, List<String> stops) {

  public static final int DEFAULT_MAX_NEW_TOKENS = 64;
  /** Upper bound accepted for max_new_tokens (the model's context usually ends generation first). */
  public static final int MAX_NEW_TOKENS_LIMIT = 1 << 20;

  public SamplingParams {
    stops = List.copyOf(stops);
  }

  /**
   * Applies defaults to wire values (0 = unset; a null seed = a random one) and rejects what cannot
   * be honoured.
   */
  public static SamplingParams of(long maxNewTokens, float temperature, long topK, float topP,
      float repetitionPenalty, Long seed, List<String> stops) {
    if (maxNewTokens < 0 || maxNewTokens > MAX_NEW_TOKENS_LIMIT) {
      throw ServingException
          .invalid("max_new_tokens must be in [0, " + MAX_NEW_TOKENS_LIMIT + "], got " + maxNewTokens);
    }
    if (!(temperature >= 0) || Float.isInfinite(temperature)) {
      throw ServingException.invalid("temperature must be a finite number >= 0 (0 = greedy), got " + temperature);
    }
    if (topK < 0 || topK > Integer.MAX_VALUE) {
      throw ServingException.invalid("top_k must be in [0, " + Integer.MAX_VALUE + "] (0 = off), got " + topK);
    }
    float p = topP == 0 ? 1f : topP;
    if (!(p > 0 && p <= 1)) {
      throw ServingException.invalid("top_p must be in (0, 1], got " + topP);
    }
    float rep = repetitionPenalty == 0 ? 1f : repetitionPenalty;
    if (!(rep > 0) || Float.isInfinite(rep)) {
      throw ServingException.invalid("repetition_penalty must be > 0 (1 = off), got " + repetitionPenalty);
    }
    for (String s : stops) {
      if (s.isEmpty()) {
        throw ServingException.invalid("stop strings must not be empty");
      }
    }
    long s = seed != null ? seed : java.util.concurrent.ThreadLocalRandom.current().nextLong();
    return new SamplingParams(maxNewTokens == 0 ? DEFAULT_MAX_NEW_TOKENS : (int) maxNewTokens, temperature,
        (int) topK, p, rep, s, stops);
  }
}
