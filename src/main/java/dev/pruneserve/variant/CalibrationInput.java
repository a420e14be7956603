package dev.pruneserve.variant;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Calibration data as a client gave it: texts (tokenized with the parent's tokenizer) or token-id
 * sequences. {@link #describe()} is what enters the recipe (and so the variant id): a digest of
 * the content, never the content itself.
 */
public record CalibrationInput(List<String> texts, List<int[]> sequences) {
  public static final CalibrationInput NONE = new CalibrationInput(List.of(), List.of());
  public static final int MAX_ITEMS = 1024;

  public CalibrationInput {
    texts = List.copyOf(texts);
    sequences = List.copyOf(sequences);
  }

  public boolean isEmpty() {
    return texts.isEmpty() && sequences.isEmpty();
  }

  public Map<String, Object> describe() {
    StringBuilder b = new StringBuilder();
    texts.forEach(t -> b.append("t:").append(t).append('\u0000'));
    sequences.forEach(s -> b.append("s:").append(java.util.Arrays.toString(s)).append('\u0000'));
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("texts", texts.size());
    m.put("sequences", sequences.size());
    m.put("sha256", VariantIds.sha256Hex(b.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8)));
    return m;
  }
}
