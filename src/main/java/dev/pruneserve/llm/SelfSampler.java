package dev.pruneserve.llm;

import dev.pruneserve.session.ModelSession;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.List;
import java.util.function.IntConsumer;

/**
 * Built-in calibration data for a causal LM: sequences sampled from the model itself (in-domain by
 * construction, no dataset needed). Each sequence starts with {@code start} (BOS; for tokenizers
 * without one, e.g. Qwen, the document separator EOS), samples at temperature 1 from the full
 * softmax with a per-sequence seed ({@code seed + i}), and stops before the first sampled stop id
 * (EOS; llama2.c: EOS or BOS) or at {@code maxLength} tokens including the start — the procedure of the shared stories15M
 * sets (with Java's RNG, so not the same ids). Sequences shorter than 2 tokens are dropped. Runs
 * on the calling thread; the session must stay leased until it returns.
 */
public final class SelfSampler {
  private SelfSampler() {}

  /** {@code progress} receives the number of finished sequences. */
  public static List<int[]> sample(ModelSession session, int count, int maxLength, long seed, int start, int[] stops,
      IntConsumer progress) {
    List<int[]> out = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      Sampler sampler = new Sampler(SamplingParams.of(maxLength, 1f, 0, 1f, 1f, seed + i, List.of()));
      int[] ids = new int[maxLength];
      ids[0] = start;
      int n = 1;
      try (KvDecoder d = new KvDecoder(session)) {
        float[] logits = d.step(new int[] {start});
        BitSet none = new BitSet();
        while (n < maxLength) {
          int next = sampler.next(logits, 0, d.vocab(), none);
          if (java.util.Arrays.stream(stops).anyMatch(x -> x == next)) {
            break;
          }
          ids[n++] = next;
          if (n < maxLength) {
            logits = d.step(new int[] {next});
          }
        }
      }
      if (n >= 2) {
        out.add(Arrays.copyOf(ids, n));
      }
      progress.accept(i + 1);
    }
    return out;
  }
}
