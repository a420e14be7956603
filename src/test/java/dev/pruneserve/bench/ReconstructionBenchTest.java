package dev.pruneserve.bench;

import dev.pruneserve.pruning.criteria.Pruner;
import dev.pruneserve.pruning.methods.PruneMethods;
import dev.pruneserve.pruning.methods.RecipeParser;
import dev.pruneserve.runtime.OrtRuntime;
import dev.pruneserve.session.ModelSession;
import dev.pruneserve.testing.LmBench;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * One-shot reconstruction on stories15M (issue 22, first slice), same protocol as the quality table:
 * magnitude-l2 and FLAP at p = 0.2 and 0.5 without and with reconstruction (calibration: the shared
 * 32 stories), and a λ sweep for FLAP at 0.5. Run: ./mvnw -B test -Pbench -Dtest=ReconstructionBenchTest
 */
@Tag("bench")
class ReconstructionBenchTest {
  /** Forward search (pruneserve's best method) with and without reconstruction at p = 0.2 and 0.5. */
  @Test
  void forwardSearch() throws Exception {
    LmBench b = LmBench.open("reconstruct-fs");
    try (ModelSession dense = b.loadDense()) {
      for (double p : new double[] {0.2, 0.5}) {
        for (boolean rec : new boolean[] {false, true}) {
          long t0 = System.nanoTime();
          Pruner.Result r = PruneMethods.apply(b.dense(), RecipeParser.parse("forward-search", p, rec ? Map.of(
              "reconstruct", "true") : Map.of()), b.calib(), OrtRuntime.cpu(2));
          b.row(dense, "forward-search" + (rec ? " + reconstruct" : ""), p, r, (System.nanoTime() - t0) / 1e9);
        }
      }
    }
  }

  /**
   * Sequential against one-shot, and which projections: -Dbench.methods (default
   * magnitude-l2,flap,wanda-sp) × -Dbench.ratios (default 0.2,0.5); rows without reconstruction,
   * one-shot, sequential (both), sequential attention-only and MLP-only.
   */
  @Test
  void modes() throws Exception {
    LmBench b = LmBench.open("reconstruct-modes");
    String[][] variants = {{}, {"reconstruct-mode", "one-shot"}, {"reconstruct-mode", "sequential"}, {
        "reconstruct-mode", "sequential", "reconstruct-projections", "attention"},
        {"reconstruct-mode", "sequential",
            "reconstruct-projections", "mlp"}};
    try (ModelSession dense = b.loadDense()) {
      for (String ratio : System.getProperty("bench.ratios", "0.2,0.5").split(",")) {
        double p = Double.parseDouble(ratio);
        for (String m : System.getProperty("bench.methods", "magnitude-l2,flap,wanda-sp").split(",")) {
          for (String[] v : variants) {
            Map<String, String> o = new LinkedHashMap<>();
            if (v.length > 0) {
              o.put("reconstruct", "true");
            }
            for (int i = 0; i < v.length; i += 2) {
              o.put(v[i], v[i + 1]);
            }
            long t0 = System.nanoTime();
            Pruner.Result r = PruneMethods.apply(b.dense(), RecipeParser.parse(m, p, o), b.calib(), OrtRuntime.cpu(2));
            String label = v.length == 0 ? m : m + " + " + String.join(" ", java.util.Arrays.copyOfRange(v, 1,
                v.length)).replace("reconstruct-projections ", "");
            b.row(dense, label, p, r, (System.nanoTime() - t0) / 1e9);
          }
        }
      }
    }
  }

  @Test
  void table() throws Exception {
    LmBench b = LmBench.open("reconstruct");
    try (ModelSession dense = b.loadDense()) {
      for (double p : new double[] {0.2, 0.5}) {
        for (String m : new String[] {"magnitude-l2", "flap"}) {
          for (String lambda : p == 0.5 && m.equals("flap") ? new String[] {"", "1e-4", "1e-3", "1e-2", "1e-1"}
              : new String[] {"", "1e-3"}) {
            Map<String, String> o = new LinkedHashMap<>();
            if (!lambda.isEmpty()) {
              o.put("reconstruct", "true");
              o.put("reconstruct-lambda", lambda);
            }
            long t0 = System.nanoTime();
            Pruner.Result r = PruneMethods.apply(b.dense(), RecipeParser.parse(m, p, o), b.calib(), OrtRuntime.cpu(2));
            b.row(dense, m + (lambda.isEmpty() ? "" : " + reconstruct λ=" + lambda), p, r, (System.nanoTime() - t0)
                / 1e9);
          }
        }
      }
    }
  }
}
