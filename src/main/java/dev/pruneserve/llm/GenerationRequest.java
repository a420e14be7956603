package dev.pruneserve.llm;

import java.util.List;

/**
 * One generation as every wire adapter (gRPC, OpenAI, KServe REST) hands it to {@link
 * GenerationService}: values as sent, not yet defaulted or checked against the server's limits
 * ({@code maxNewTokens} 0 = the default, {@code topP} 0 = off, {@code repetitionPenalty} 0 = off,
 * a null seed = a random one). Immutable.
 */
public record GenerationRequest(String model, String version, PromptInput prompt, long maxNewTokens,
    float temperature, long topK, float topP, float repetitionPenalty, Long seed, List<String> stops) {

  public GenerationRequest {
    stops = List.copyOf(stops);
  }
}
