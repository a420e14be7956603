package dev.pruneserve.llm;

import java.util.List;

/**
 * Decides how much generated text is safe to stream: everything before a matched stop string, or
 * everything except a suffix that could still become one. Stateless.
 */
final class StopMatcher {
  private final List<String> stops;

  StopMatcher(List<String> stops) {
    this.stops = stops;
  }

  /** Index of the earliest complete stop string in {@code text}, or -1. */
  int match(String text) {
    int best = -1;
    for (String s : stops) {
      int i = text.indexOf(s);
      if (i >= 0 && (best < 0 || i < best)) {
        best = i;
      }
    }
    return best;
  }

  /** Length of the prefix of {@code text} that no stop string can still extend into a match. */
  int safeLength(String text) {
    int hold = 0;
    for (String s : stops) {
      for (int k = Math.min(s.length() - 1, text.length()); k > hold; k--) {
        if (text.endsWith(s.substring(0, k))) {
          hold = k;
          break;
        }
      }
    }
    return text.length() - hold;
  }
}
