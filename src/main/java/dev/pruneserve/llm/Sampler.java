package dev.pruneserve.llm;

import java.util.Arrays;
import java.util.BitSet;
import java.util.SplittableRandom;

/**
 * Picks the next token from one row of logits: repetition penalty, then greedy (temperature 0) or
 * temperature + top-k + top-p sampling with a seeded generator, so a seed reproduces the output.
 * Not thread-safe: one sampler per generation.
 */
final class Sampler {
  private final SamplingParams p;
  private final SplittableRandom rng;

  Sampler(SamplingParams p) {
    this.p = p;
    this.rng = new SplittableRandom(p.seed());
  }

  /** {@code logits[offset .. offset+vocab)} is modified in place. {@code seen}: ids to penalise. */
  int next(float[] logits, int offset, int vocab, BitSet seen) {
    if (p.repetitionPenalty() != 1f) {
      for (int id = seen.nextSetBit(0); id >= 0 && id < vocab; id = seen.nextSetBit(id + 1)) {
        float l = logits[offset + id];
        logits[offset + id] = l > 0 ? l / p.repetitionPenalty() : l * p.repetitionPenalty();
      }
    }
    if (p.temperature() == 0f) {
      int best = 0;
      for (int v = 1; v < vocab; v++) {
        if (logits[offset + v] > logits[offset + best]) {
          best = v;
        }
      }
      return best;
    }
    // Sort candidates by logit, descending: key = order-preserving int bits of the logit, then id.
    long[] keys = new long[vocab];
    for (int v = 0; v < vocab; v++) {
      int bits = Float.floatToIntBits(logits[offset + v]);
      int ordered = bits >= 0 ? bits : bits ^ 0x7fffffff;
      keys[v] = ((long) ordered << 32) | v;
    }
    Arrays.sort(keys);
    int n = p.topK() > 0 ? Math.min(p.topK(), vocab) : vocab;
    double max = logits[offset + (int) keys[vocab - 1]];
    double[] probs = new double[n];
    double sum = 0;
    for (int i = 0; i < n; i++) {
      probs[i] = Math.exp((logits[offset + (int) keys[vocab - 1 - i]] - max) / p.temperature());
      sum += probs[i];
    }
    int kept = n;
    if (p.topP() < 1f) {
      double cum = 0;
      for (int i = 0; i < n; i++) {
        cum += probs[i] / sum;
        if (cum >= p.topP()) {
          kept = i + 1;
          break;
        }
      }
    }
    double total = 0;
    for (int i = 0; i < kept; i++) {
      total += probs[i];
    }
    double r = rng.nextDouble() * total;
    for (int i = 0; i < kept; i++) {
      r -= probs[i];
      if (r < 0) {
        return (int) keys[vocab - 1 - i];
      }
    }
    return (int) keys[vocab - kept];
  }
}
