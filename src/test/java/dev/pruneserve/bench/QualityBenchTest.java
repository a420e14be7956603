package dev.pruneserve.bench;

import dev.pruneserve.config.ServerConfig;
import dev.pruneserve.eval.LmQuality;
import dev.pruneserve.eval.TokenFiles;
import dev.pruneserve.model.ModelSession;
import dev.pruneserve.onnx.proto.Onnx.ModelProto;
import dev.pruneserve.pruning.Criterion;
import dev.pruneserve.pruning.Pruner;
import dev.pruneserve.runtime.OrtRuntime;
import dev.pruneserve.testing.Fixtures;
import dev.pruneserve.testing.Stories15mModels;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The stories15M quality table for Wanda-SP and the weight-only criteria (range `all`, p ∈ {0.2, 0.5}), on the
 * shared data of quality-reference.md: parameters, in-domain PPL (64 stories), SOTU PPL, KL and
 * top-1 agreement against dense, pruning wall time. Prints markdown rows.
 * Run: ./mvnw -B test -Pbench -Dtest=QualityBenchTest
 */
@Tag("bench")
class QualityBenchTest {
  @Test
  void table() throws Exception {
    int[] stories = TokenFiles.storiesStream(Fixtures.sharedData("eval_ids.json"));
    int[] sotu = TokenFiles.ids(Fixtures.sharedData("sotu_ids.json"));
    ModelProto dense = Stories15mModels.dense();
    OrtRuntime rt = new OrtRuntime(OrtRuntime.settings(ServerConfig.Device.CPU, true, 1));
    Path dir = Files.createTempDirectory("quality");
    try (ModelSession d = load(rt, dir, dense, "dense")) {
      row("dense", 0, Pruner.parameters(dense), 0, LmQuality.evaluate(d, d, stories, 128),
          LmQuality.evaluate(d, null, sotu, 128));
      java.util.List<int[]> calib = TokenFiles.stories(Fixtures.sharedData("calib_ids.json"));
      for (double p : new double[] {0.2, 0.5}) {
        long w0 = System.nanoTime();
        Pruner.Result w = dev.pruneserve.pruning.WandaSp.prune(dense, p, calib, rt, dir).result();
        long wms = (System.nanoTime() - w0) / 1_000_000;
        try (ModelSession s = load(rt, dir, w.model(), "wanda")) {
          row("wanda_sp", p, w.parametersAfter(), wms, LmQuality.evaluate(s, d, stories, 128),
              LmQuality.evaluate(s, null, sotu, 128));
        }
        for (Criterion c : Criterion.values()) {
          long t0 = System.nanoTime();
          Pruner.Result r = Pruner.prune(dense, new Pruner.Options(c, p, 0, 0, -1));
          long ms = (System.nanoTime() - t0) / 1_000_000;
          try (ModelSession s = load(rt, dir, r.model(), c.name())) {
            row(c.name().toLowerCase(), p, r.parametersAfter(), ms, LmQuality.evaluate(s, d, stories, 128),
                LmQuality.evaluate(s, null, sotu, 128));
          }
        }
      }
    }
  }

  private static void row(String method, double p, long params, long ms, LmQuality.Result in, LmQuality.Result out) {
    System.out.printf("BENCH quality | %s | %.1f | %.3f | %.4g | %.4g | %.4f | %.4f | %d |%n", method, p, params / 1e6,
        in.perplexity(), out.perplexity(), in.kl(), in.top1(), ms);
  }

  private static ModelSession load(OrtRuntime rt, Path dir, ModelProto m, String name) throws Exception {
    Path f = dir.resolve(name + ".onnx");
    Files.write(f, m.toByteArray());
    return rt.load(name + "/1", f);
  }
}
