package dev.pruneserve.variant;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Calibration data as a client gave it: texts (tokenized with the parent's tokenizer), token-id
 * sequences, and/or a built-in self-sampled set ({@code samples}, null = none). {@link
 * #describe()} is what enters the recipe (and so the variant id): a digest of the content and the
 * sampling parameters, never the content itself.
 */
public record CalibrationInput(List<String> texts, List<int[]> sequences, SelfSamples samples) {
  public static final CalibrationInput NONE = new CalibrationInput(List.of(), List.of(), null);
  public static final int MAX_ITEMS = 1024;
  /** Longest calibration or evaluation text in UTF-8 bytes (as a Generate prompt's default limit). */
  public static final int MAX_TEXT_BYTES = 262_144;

  /** Refuses texts longer than {@link #MAX_TEXT_BYTES}, before any tokenization. */
  public static void requireShort(List<String> texts, String what) {
    for (int i = 0; i < texts.size(); i++) {
      int bytes = texts.get(i).getBytes(java.nio.charset.StandardCharsets.UTF_8).length;
      if (bytes > MAX_TEXT_BYTES) {
        throw dev.pruneserve.error.ServingException.invalid(what + " text " + i + " has " + bytes + " UTF-8 bytes;"
            + " at most " + MAX_TEXT_BYTES);
      }
    }
  }

  /** Sequences sampled from the parent itself: {@code count} × at most {@code maxLength} tokens. */
  public record SelfSamples(int count, int maxLength, long seed) {
    public static final int DEFAULT_COUNT = 32;
    public static final int DEFAULT_MAX_LENGTH = 256;
  }

  public CalibrationInput {
    texts = List.copyOf(texts);
    sequences = List.copyOf(sequences);
  }

  public CalibrationInput(List<String> texts, List<int[]> sequences) {
    this(texts, sequences, null);
  }

  public boolean isEmpty() {
    return texts.isEmpty() && sequences.isEmpty() && samples == null;
  }

  public int items() {
    return texts.size() + sequences.size() + (samples == null ? 0 : samples.count());
  }

  public Map<String, Object> describe() {
    StringBuilder b = new StringBuilder();
    texts.forEach(t -> b.append("t:").append(t).append('\u0000'));
    sequences.forEach(s -> b.append("s:").append(java.util.Arrays.toString(s)).append('\u0000'));
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("texts", texts.size());
    m.put("sequences", sequences.size());
    m.put("sha256", VariantIds.sha256Hex(b.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8)));
    if (samples != null) {
      Map<String, Object> ss = new LinkedHashMap<>();
      ss.put("count", samples.count());
      ss.put("max_length", samples.maxLength());
      ss.put("seed", samples.seed());
      m.put("self_samples", ss);
    }
    return m;
  }
}
