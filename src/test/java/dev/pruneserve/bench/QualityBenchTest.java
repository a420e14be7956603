package dev.pruneserve.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pruneserve.eval.LmQuality;
import dev.pruneserve.eval.TokenFiles;
import dev.pruneserve.onnx.proto.Onnx.ModelProto;
import dev.pruneserve.pruning.criteria.Pruner;
import dev.pruneserve.runtime.OrtRuntime;
import dev.pruneserve.session.ModelSession;
import dev.pruneserve.testing.Fixtures;
import dev.pruneserve.testing.Stories15mModels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The issue-4 table for stories15M, range `all`, p ∈ {0.2, 0.5} × {random, magnitude-l2, wanda-sp,
 * flap} (+ magnitude-sp, magnitude-l1): each variant is made by the prune command in its own JVM
 * (so its peak RSS is its own), which also reports parameters, pruning wall time and quality on
 * the stories15M data (in-domain PPL, SOTU PPL, KL and top-1 vs dense); decoding tokens/s relative to
 * dense is measured here, interleaved with dense in the same process. Prints markdown rows.
 * Run: ./mvnw -B test -Pbench -Dtest=QualityBenchTest
 */
@Tag("bench")
class QualityBenchTest {
  static final List<String> METHODS = List.of("random", "magnitude-l2", "wanda-sp", "flap", "magnitude-sp",
      "magnitude-l1");

  @Test
  void table() throws Exception {
    Path data = Fixtures.stories15mData("eval_ids.json").getParent();
    ModelProto dense = Stories15mModels.dense();
    Path dir = Files.createTempDirectory("quality");
    Path densePath = dir.resolve("dense.onnx");
    Files.write(densePath, dense.toByteArray());
    OrtRuntime rt = OrtRuntime.cpu(1);
    System.out.println("BENCH quality | method | p | params (M) | PPL stories | PPL SOTU | KL | top-1 | tok/s vs dense"
        + " | prune s | peak RSS MiB |");
    try (ModelSession d = rt.load("dense/1", densePath)) {
      LmQuality.Result in = LmQuality.evaluate(d, d, TokenFiles.storiesStream(data.resolve("eval_ids.json")), 128);
      LmQuality.Result out = LmQuality.evaluate(d, null, TokenFiles.ids(data.resolve("sotu_ids.json")), 128);
      System.out.printf("BENCH quality | dense | 0 | %.3f | %.4g | %.4g | %.4f | %.4f | 1.00 | – | – |%n",
          Pruner.parameters(dense) / 1e6, in.perplexity(), out.perplexity(), in.kl(), in.top1());
      for (double p : new double[] {0.2, 0.5}) {
        for (String m : METHODS) {
          Path variant = dir.resolve(m + "-" + p + ".onnx");
          JsonNode r = prune(densePath, variant, m, p, data);
          double ratio;
          try (ModelSession s = rt.load(m + "/1", variant)) {
            double[] tps = DecodeSpeed.medians(d, s, 100, 3);
            ratio = tps[1] / tps[0];
          }
          JsonNode q = r.get("quality");
          System.out.printf("BENCH quality | %s | %.1f | %.3f | %.4g | %.4g | %.4f | %.4f | %.2f | %.1f | %d |%n", m, p,
              r.get("parameters_after").asLong() / 1e6, q.get("in_domain").get("perplexity").asDouble(),
              q.get("out_of_domain").get("perplexity").asDouble(), q.get("in_domain").get("kl").asDouble(),
              q.get("in_domain").get("top1").asDouble(), ratio, r.get("prune_ms").asLong() / 1e3,
              r.get("peak_rss_bytes_after_pruning").asLong() >> 20);
          Files.deleteIfExists(variant);
        }
      }
    }
  }

  /** Runs PruneCommand in a child JVM and returns its JSON report. */
  private static JsonNode prune(Path model, Path out, String method, double p, Path data) throws Exception {
    String cp = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
    List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-cp", cp, "dev.pruneserve.app.Main", "prune", "--model", model.toString(), "--method", method,
        "--ratio", Double.toString(p), "--calibration", data.resolve("calib_ids.json").toString(),
        "--eval", data.resolve("eval_ids.json").toString(), "--eval-ood", data.resolve("sotu_ids.json").toString(),
        "--out", out.toString()));
    Process proc = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD)
        .start();
    if (proc.waitFor() != 0) {
      throw new IllegalStateException("prune command failed for " + method + " p=" + p);
    }
    Path report = Path.of(out + ".json");
    JsonNode r = new ObjectMapper().readTree(report.toFile());
    Files.deleteIfExists(report);
    return r;
  }
}
