package dev.pruneserve.bench;

import dev.pruneserve.llm.KvDecoder;
import dev.pruneserve.session.ModelSession;
import java.util.Arrays;

/** Greedy KV-cache decoding speed of stories15M-style decoders, measured side by side. */
final class DecodeSpeed {
  static final int[] PROMPT = {1, 9038, 2501, 263, 931};

  private DecodeSpeed() {}

  /**
   * Median tokens/s of {@code a} and {@code b} over {@code rounds} interleaved rounds (after one
   * warm-up round each) of {@code tokens} greedy steps from the same prompt.
   */
  static double[] medians(ModelSession a, ModelSession b, int tokens, int rounds) {
    double[] ta = new double[rounds];
    double[] tb = new double[rounds];
    for (int i = -1; i < rounds; i++) {
      double x = tokensPerSecond(a, tokens);
      double y = tokensPerSecond(b, tokens);
      if (i >= 0) {
        ta[i] = x;
        tb[i] = y;
      }
    }
    Arrays.sort(ta);
    Arrays.sort(tb);
    return new double[] {ta[rounds / 2], tb[rounds / 2]};
  }

  static double tokensPerSecond(ModelSession s, int tokens) {
    try (KvDecoder dec = new KvDecoder(s)) {
      float[] logits = dec.step(PROMPT);
      int row = PROMPT.length - 1;
      long t0 = System.nanoTime();
      for (int i = 0; i < tokens; i++) {
        int best = 0;
        for (int v = 1; v < dec.vocab(); v++) {
          if (logits[row * dec.vocab() + v] > logits[row * dec.vocab() + best]) {
            best = v;
          }
        }
        logits = dec.step(new int[] {best});
        row = 0;
      }
      return tokens / ((System.nanoTime() - t0) / 1e9);
    }
  }
}
