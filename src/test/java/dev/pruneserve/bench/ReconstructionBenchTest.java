package dev.pruneserve.bench;

import dev.pruneserve.pruning.criteria.Pruner;
import dev.pruneserve.pruning.methods.PruneMethods;
import dev.pruneserve.pruning.methods.RecipeParser;
import dev.pruneserve.pruning.recovery.ReconstructSettings;
import dev.pruneserve.pruning.recovery.Reconstruction;
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
   * More calibration data for selection and reconstruction alike (as a Prune request with
   * calibration stories plus {@code self_samples}): -Dbench.methods (flap,forward-search) at
   * -Dbench.ratios (0.2), each with sequential reconstruction, calibrated on the 32 shared stories
   * plus each count of -Dbench.self (0,96,224) sequences sampled from the dense model (temperature 1,
   * at most 128 tokens, seeds 0…).
   */
  @Test
  void moreCalibration() throws Exception {
    LmBench b = LmBench.open("reconstruct-more");
    try (ModelSession dense = b.loadDense()) {
      for (String count : System.getProperty("bench.self", "0,96,224").split(",")) {
        java.util.List<int[]> calib = new java.util.ArrayList<>(b.calib());
        calib.addAll(dev.pruneserve.llm.SelfSampler.sample(dense, Integer.parseInt(count), 128, 0, 1, new int[] {2},
            d -> {}));
        for (String ratio : System.getProperty("bench.ratios", "0.2").split(",")) {
          for (String m : System.getProperty("bench.methods", "flap,forward-search").split(",")) {
            long t0 = System.nanoTime();
            Pruner.Result r = PruneMethods.apply(b.dense(), RecipeParser.parse(m, Double.parseDouble(ratio), Map.of(
                "reconstruct", "true")), calib, OrtRuntime.cpu(2));
            b.row(dense, m + " + sequential, 32 stories + " + count + " self-samples", Double.parseDouble(ratio), r,
                (System.nanoTime() - t0) / 1e9);
          }
        }
      }
    }
  }

  /**
   * Sequential against one-shot, and which projections: -Dbench.methods (default every LLM method)
   * × -Dbench.ratios (default 0.2,0.5); each method prunes once, then rows without reconstruction,
   * one-shot, sequential (both), sequential attention-only and MLP-only re-fit that same model
   * (seconds = pruning + that reconstruction; validation not included).
   */
  @Test
  void modes() throws Exception {
    LmBench b = LmBench.open("reconstruct-modes");
    String[][] variants = {{"one-shot", "both"}, {"sequential", "both"}, {"sequential", "attention"}, {"sequential",
        "mlp"}};
    java.nio.file.Path work = java.nio.file.Files.createTempDirectory("reconstruct-bench");
    try (ModelSession dense = b.loadDense()) {
      for (String ratio : System.getProperty("bench.ratios", "0.2,0.5").split(",")) {
        double p = Double.parseDouble(ratio);
        for (String m : System.getProperty("bench.methods",
            "magnitude-l2,wanda-sp,flap,mini-llm,taylor,forward-search").split(",")) {
          long t0 = System.nanoTime();
          Pruner.Result r = PruneMethods.apply(b.dense(), RecipeParser.parse(m, p, Map.of()), b.calib(), OrtRuntime
              .cpu(2));
          double prune = (System.nanoTime() - t0) / 1e9;
          b.row(dense, m, p, r, prune);
          for (String[] v : variants) {
            long t1 = System.nanoTime();
            var settings = new ReconstructSettings(
                ReconstructSettings.Mode.valueOf(v[0].toUpperCase(java.util.Locale.ROOT).replace('-', '_')),
                ReconstructSettings.Projections.valueOf(v[1].toUpperCase(java.util.Locale.ROOT)),
                ReconstructSettings.LAMBDA, 0);
            var rec = Reconstruction.transformer(b.dense(), r.model(), b.calib(), settings, OrtRuntime.cpu(2), work,
                dev.pruneserve.pruning.Progress.NONE);
            double secs = prune + (System.nanoTime() - t1) / 1e9;
            b.row(dense, m + " + " + v[0] + (v[1].equals("both") ? "" : " " + v[1]), p, new Pruner.Result(rec.model(),
                r.headsPerLayer(), r.channelsPerLayer(), r.parametersBefore(), Pruner.parameters(rec.model())), secs);
          }
        }
      }
    }
  }

  /**
   * The fine-tune comparator: FLAP at p = 0.2 and 0.5 without recovery, with sequential
   * reconstruction, with the Adam fine-tune (-Dbench.ft.steps, default 100; -Dbench.ft.lr, default
   * 1e-4; the calibration stories, micro-batches of 8) and with reconstruction then the fine-tune.
   */
  @Test
  void fineTune() throws Exception {
    LmBench b = LmBench.open("reconstruct-finetune");
    int steps = Integer.getInteger("bench.ft.steps", 100);
    double lr = Double.parseDouble(System.getProperty("bench.ft.lr", "1e-4"));
    java.nio.file.Path work = java.nio.file.Files.createTempDirectory("finetune-bench");
    var seq = new ReconstructSettings(ReconstructSettings.Mode.SEQUENTIAL, ReconstructSettings.Projections.BOTH,
        ReconstructSettings.LAMBDA, 0);
    try (ModelSession dense = b.loadDense()) {
      for (double p : new double[] {0.2, 0.5}) {
        for (String m : System.getProperty("bench.methods", "flap").split(",")) {
          long t0 = System.nanoTime();
          Pruner.Result r = PruneMethods.apply(b.dense(), RecipeParser.parse(m, p, Map.of()), b.calib(), OrtRuntime
              .cpu(2));
          double prune = (System.nanoTime() - t0) / 1e9;
          b.row(dense, m, p, r, prune);
          long t1 = System.nanoTime();
          var rec = Reconstruction.transformer(b.dense(), r.model(), b.calib(), seq, OrtRuntime.cpu(2), work,
              dev.pruneserve.pruning.Progress.NONE).model();
          double recSecs = (System.nanoTime() - t1) / 1e9;
          b.row(dense, m + " + sequential", p, same(r, rec), prune + recSecs);
          for (boolean after : new boolean[] {false, true}) {
            long t2 = System.nanoTime();
            var ft = dev.pruneserve.pruning.recovery.FineTune.run(after ? rec : r.model(), b.calib(), steps, lr, 0,
                OrtRuntime.cpu(2), work, dev.pruneserve.pruning.Progress.NONE);
            double secs = prune + (after ? recSecs : 0) + (System.nanoTime() - t2) / 1e9;
            System.out.printf("fine-tune %s%s p=%s: batch loss %.4f -> %.4f%n", m, after ? " + sequential" : "", p, ft
                .firstLoss(), ft.lastLoss());
            b.row(dense, m + (after ? " + sequential" : "") + " + fine-tune " + steps + " steps", p,
                same(r, ft.model()),
                secs);
          }
        }
      }
    }
  }

  private static Pruner.Result same(Pruner.Result r, dev.pruneserve.onnx.proto.Onnx.ModelProto m) {
    return new Pruner.Result(m, r.headsPerLayer(), r.channelsPerLayer(), r.parametersBefore(), Pruner.parameters(m));
  }

  /**
   * Peak RSS, each phase in a fresh JVM with the same heap cap (MemoryPeakMain): plain inference over
   * the calibration stories, FLAP p = 0.5 alone, with sequential and with one-shot reconstruction,
   * and FLAP then 8 fine-tune steps.
   */
  @Test
  void memory() throws Exception {
    java.nio.file.Path data = dev.pruneserve.testing.Fixtures.stories15mData("calib_ids.json");
    java.nio.file.Path model = java.nio.file.Files.createTempDirectory("reconstruct-mem").resolve("dense.onnx");
    java.nio.file.Files.write(model, dev.pruneserve.testing.Stories15mModels.dense().toByteArray());
    long infer = dev.pruneserve.pruning.zo.MemoryPeakMain.peak("infer", model, data);
    StringBuilder row = new StringBuilder("BENCH reconstruct-memory | plain inference " + (infer >> 20) + " MiB");
    for (String phase : new String[] {"flap", "flap+sequential", "flap+one-shot", "flap+fine-tune"}) {
      long p = dev.pruneserve.pruning.zo.MemoryPeakMain.peak(phase, model, data);
      row.append(String.format(" | %s %d MiB (%.2fx)", phase, p >> 20, (double) p / infer));
    }
    System.out.println(row + " | target reconstruction <= 1.1x inference |");
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
