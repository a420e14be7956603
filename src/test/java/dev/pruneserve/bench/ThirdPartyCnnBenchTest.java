package dev.pruneserve.bench;

import dev.pruneserve.assets.FixtureCache;
import dev.pruneserve.assets.ThirdPartyOnnx;
import dev.pruneserve.graph.ModelFiles;
import dev.pruneserve.onnx.proto.Onnx.ModelProto;
import dev.pruneserve.pruning.criteria.Pruner;
import dev.pruneserve.pruning.ifso.Ifso;
import dev.pruneserve.pruning.methods.PruneMethods;
import dev.pruneserve.pruning.methods.RecipeParser;
import dev.pruneserve.runtime.OrtRuntime;
import dev.pruneserve.session.ModelSession;
import dev.pruneserve.tensor.Tensor;
import dev.pruneserve.testing.NpyFiles;
import dev.pruneserve.testing.TextLines;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * PaddleOCR's text-direction classifier as shipped, pruned by magnitude (L1) and by wanda-sp
 * (activation-aware, calibrated on unlabelled rendered text lines) at 20 % and 50 % of its FLOPs
 * removed (channel ratio found by bisection on the measured MACs): top-1 agreement with the dense
 * model and orientation accuracy on held-out rendered lines (Java2D, DejaVu fonts, upright and
 * rotated 180°), side by side; with BN recalibration (+bn), with reconstruction on unlabelled
 * images (+rec, BN statistics kept dense, reconstruct's default) and with both (+bn+rec); +rec runs
 * at the ratio the bisection found without it. {@code -Dbench.cnn.calib=N} sets the calibration
 * images (default 64). Prints the table for docs/benchmarks.md.
 */
@Tag("bench")
class ThirdPartyCnnBenchTest {
  private static final int EVAL = 400;
  private static final int CALIB = Integer.getInteger("bench.cnn.calib", 64);
  @TempDir Path dir;

  @Test
  void paddleOcrDirectionClassifier() throws Exception {
    FixtureCache cache = FixtureCache.defaultCache();
    Assumptions.assumeTrue(ThirdPartyOnnx.available(cache), "third-party fixtures not fetched");
    ModelProto dense = ModelFiles.read(ThirdPartyOnnx.file(cache, ThirdPartyOnnx.OCR_CLS)).model();
    TextLines eval = TextLines.render(EVAL, 48, 192, 11);
    TextLines calib = TextLines.render(CALIB, 48, 192, 12);
    Path data = Files.createDirectories(dir.resolve("calib"));
    NpyFiles.write(data.resolve("images.npy"), "<f4", false, new long[] {CALIB, 3, 48, 192}, NpyFiles.float32(calib
        .pixels()));
    Path labelled = Files.createDirectories(dir.resolve("labelled"));
    Files.copy(data.resolve("images.npy"), labelled.resolve("images.npy"));
    NpyFiles.write(labelled.resolve("labels.npy"), "<i8", false, new long[] {CALIB}, NpyFiles.int64(java.util.Arrays
        .stream(calib.labels()).asLongStream().toArray()));
    int[] denseTop = predict(dense, eval);
    double denseMacs = Ifso.macs(TextLines.fixedInput(dense, 48, 192));
    System.out.printf("dense: %.1f MMACs, %d parameters, orientation accuracy %.3f%n", denseMacs / 1e6,
        Pruner.parameters(dense), accuracy(denseTop, eval.labels()));
    System.out.println("| method | FLOPs removed (target) | channel ratio | parameters removed | top-1 agreement"
        + " | orientation accuracy |");
    for (double target : new double[] {0.2, 0.5}) {
      for (String variant : List.of("magnitude-l1", "wanda-sp", "magnitude-l1+bn", "wanda-sp+bn", "magnitude-l1+rec",
          "wanda-sp+rec", "magnitude-l1+bn+rec", "wanda-sp+bn+rec")) {
        String method = variant.replace("+bn", "").replace("+rec", "");
        Map<String, String> opts = variant.contains("+bn") ? Map.of("images", "dir:" + labelled)
            : method.equals("wanda-sp") || variant.endsWith("+rec") ? Map.of("images", "dir:" + data) : Map.of();
        double lo = 0.01;
        double hi = 0.9;
        Pruner.Result best = null;
        double bestRemoved = 0;
        double bestRatio = 0;
        for (int i = 0; i < 9; i++) {
          double mid = (lo + hi) / 2;
          Pruner.Result r = PruneMethods.apply(dense, RecipeParser.parse(method, mid, opts), null, OrtRuntime.cpu(2));
          double removed = 1 - Ifso.macs(TextLines.fixedInput(r.model(), 48, 192)) / denseMacs;
          if (best == null || Math.abs(removed - target) < Math.abs(bestRemoved - target)) {
            best = r;
            bestRemoved = removed;
            bestRatio = mid;
          }
          if (removed < target) {
            lo = mid;
          } else {
            hi = mid;
          }
        }
        if (variant.endsWith("+rec")) { // the channel ratio sets the FLOPs; reconstruction re-fits at that ratio
          Map<String, String> rec = new java.util.LinkedHashMap<>(opts);
          rec.put("reconstruct", "true");
          rec.put("recalibrate-bn", Boolean.toString(variant.contains("+bn"))); // reconstruct's default: false
          best = PruneMethods.apply(dense, RecipeParser.parse(method, bestRatio, rec), null, OrtRuntime.cpu(2));
        }
        int[] top = predict(best.model(), eval);
        System.out.printf("| %s | %.3f (%.1f) | %.3f | %.3f | %.3f | %.3f |%n", variant, bestRemoved, target,
            bestRatio, 1 - (double) best.parametersAfter() / best.parametersBefore(), agreement(top, denseTop),
            accuracy(top, eval.labels()));
      }
    }
  }

  private int[] predict(ModelProto m, TextLines lines) throws Exception {
    Path f = dir.resolve("m" + System.nanoTime() + ".onnx");
    Files.write(f, m.toByteArray());
    String in = m.getGraph().getInput(0).getName();
    String out = m.getGraph().getOutput(0).getName();
    int n = lines.labels().length;
    int[] top = new int[n];
    try (ModelSession s = OrtRuntime.cpu(2).load("bench/1", f)) {
      int size = 3 * 48 * 192;
      for (int from = 0; from < n; from += 50) {
        int b = Math.min(50, n - from);
        float[] x = java.util.Arrays.copyOfRange(lines.pixels(), from * size, (from + b) * size);
        float[] y = s.run(Map.of(in, Tensor.fp32(in, new long[] {b, 3, 48, 192}, x)), Set.of(out)).get(out)
            .toFloatArray();
        int classes = y.length / b;
        for (int i = 0; i < b; i++) {
          top[from + i] = dev.pruneserve.train.ImageSet.classOf(y, i, classes);
        }
      }
    }
    return top;
  }

  private static double agreement(int[] a, int[] b) {
    int same = 0;
    for (int i = 0; i < a.length; i++) {
      same += a[i] == b[i] ? 1 : 0;
    }
    return (double) same / a.length;
  }

  private static double accuracy(int[] top, int[] labels) {
    return agreement(top, labels);
  }
}
