package dev.pruneserve.bench;

import dev.pruneserve.config.ServerConfig;
import dev.pruneserve.fixtures.FixtureCache;
import dev.pruneserve.llm.KvDecoder;
import dev.pruneserve.model.ModelSession;
import dev.pruneserve.onnx.proto.Onnx.ModelProto;
import dev.pruneserve.pruning.Criterion;
import dev.pruneserve.pruning.Pruner;
import dev.pruneserve.runtime.OrtRuntime;
import dev.pruneserve.testing.Fixtures;
import dev.pruneserve.testing.Stories15mModels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Greedy decoding speed of stories15M dense vs pruned at p = 0.5 (Mag-SP, every layer), same
 * KV-cache loop, same prompt, interleaved rounds, in process; prints tokens/s and the ratio.
 * Run: ./mvnw -B test -Pbench -Dtest=PrunedSpeedBenchTest
 */
@Tag("bench")
class PrunedSpeedBenchTest {
  static final int TOKENS = 200;
  static final int ROUNDS = 7;

  @Test
  void prunedVersusDense() throws Exception {
    FixtureCache cache = Fixtures.stories15m();
    ModelProto dense = Stories15mModels.dense();
    Pruner.Result pruned = Pruner.prune(dense, new Pruner.Options(Criterion.MAGNITUDE_SP, 0.5, 0, 0, -1));
    OrtRuntime rt = new OrtRuntime(OrtRuntime.settings(ServerConfig.Device.CPU, true, 1));
    Path d = Files.createTempFile("dense", ".onnx");
    Path p = Files.createTempFile("pruned", ".onnx");
    Files.write(d, dense.toByteArray());
    Files.write(p, pruned.model().toByteArray());
    try (ModelSession ds = rt.load("dense/1", d); ModelSession ps = rt.load("pruned/1", p)) {
      double[] dt = new double[ROUNDS];
      double[] pt = new double[ROUNDS];
      for (int i = -1; i < ROUNDS; i++) {
        double a = tokensPerSecond(ds);
        double b = tokensPerSecond(ps);
        if (i >= 0) {
          dt[i] = a;
          pt[i] = b;
        }
      }
      Arrays.sort(dt);
      Arrays.sort(pt);
      System.out.printf("BENCH pruned-speed stories15m greedy %d tokens, median of %d: dense %.1f tok/s (%d params) |"
              + " pruned p=0.5 %.1f tok/s (%d params) | ratio %.3f%n", TOKENS, ROUNDS, dt[ROUNDS / 2],
          pruned.parametersBefore(), pt[ROUNDS / 2], pruned.parametersAfter(), pt[ROUNDS / 2] / dt[ROUNDS / 2]);
    } finally {
      Files.deleteIfExists(d);
      Files.deleteIfExists(p);
    }
  }

  private static double tokensPerSecond(ModelSession s) {
    try (KvDecoder dec = new KvDecoder(s)) {
      float[] logits = dec.step(new int[] {1, 9038, 2501, 263, 931});
      int row = 4;
      long t0 = System.nanoTime();
      for (int i = 0; i < TOKENS; i++) {
        int best = 0;
        for (int v = 1; v < dec.vocab(); v++) {
          if (logits[row * dec.vocab() + v] > logits[row * dec.vocab() + best]) {
            best = v;
          }
        }
        logits = dec.step(new int[] {best});
        row = 0;
      }
      return TOKENS / ((System.nanoTime() - t0) / 1e9);
    }
  }
}
