package dev.pruneserve.testing;

import dev.pruneserve.eval.LmQuality;
import dev.pruneserve.model.ModelSession;
import dev.pruneserve.pruning.Pruner;
import java.nio.file.Path;

/**
 * One quality row of a stories15M pruning bench: in-domain PPL, SOTU PPL, KL and top-1 against
 * the dense model (128-token windows, quality-reference.md §2), heads kept per layer and time.
 */
public final class LmBenchRows {
  private LmBenchRows() {}

  /** Prints {@code BENCH <tag> | name | p | PPL stories | PPL SOTU | KL | top-1 | heads | seconds |}. */
  public static void print(String tag, Path dir, ModelSession dense, String name, double p, Pruner.Result r,
      double seconds, int[] stories, int[] sotu) throws Exception {
    try (ModelSession s = Stories15mModels.load(dir, r.model(), "variant")) {
      LmQuality.Result in = LmQuality.evaluate(s, dense, stories, 128);
      LmQuality.Result out = LmQuality.evaluate(s, null, sotu, 128);
      System.out.printf("BENCH %s | %s | %.1f | %.4g | %.4g | %.4f | %.4f | %s | %.1f |%n", tag, name, p,
          in.perplexity(), out.perplexity(), in.kl(), in.top1(), r.headsPerLayer(), seconds);
    }
  }
}
