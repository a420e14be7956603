package dev.pruneserve.llm;

/**
 * What a finished generation produced. {@code text} is the whole generated text (stop string
 * excluded); {@code trailingText} the part of it not yet streamed as token deltas. Times in ms.
 */
public record GenerationResult(String model, String version, FinishReason reason, int promptTokens,
    int[] tokenIds, String text, String trailingText, double timeToFirstTokenMs, double tokensPerSecond,
    long seed) {}
