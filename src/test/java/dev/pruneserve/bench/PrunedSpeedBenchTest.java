package dev.pruneserve.bench;

import dev.pruneserve.assets.FixtureCache;
import dev.pruneserve.config.ServerConfig;
import dev.pruneserve.onnx.proto.Onnx.ModelProto;
import dev.pruneserve.pruning.criteria.Criterion;
import dev.pruneserve.pruning.criteria.Pruner;
import dev.pruneserve.runtime.OrtRuntime;
import dev.pruneserve.session.ModelSession;
import dev.pruneserve.testing.Fixtures;
import dev.pruneserve.testing.Stories15mModels;
import java.nio.file.Files;
import java.nio.file.Path;
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
      double[] tps = DecodeSpeed.medians(ds, ps, TOKENS, ROUNDS);
      System.out.printf("BENCH pruned-speed stories15m greedy %d tokens, median of %d: dense %.1f tok/s (%d params) |"
          + " pruned p=0.5 %.1f tok/s (%d params) | ratio %.3f%n", TOKENS, ROUNDS, tps[0],
          pruned.parametersBefore(), tps[1], pruned.parametersAfter(), tps[1] / tps[0]);
    } finally {
      Files.deleteIfExists(d);
      Files.deleteIfExists(p);
    }
  }
}
