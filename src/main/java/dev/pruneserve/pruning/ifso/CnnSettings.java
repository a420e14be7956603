package dev.pruneserve.pruning.ifso;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The CNN part of a recipe: IFSO/Taylor schedule ({@link Ifso.Options} without target and seed),
 * the training images ({@code dataset} "" = none, {@code images} 0 = all) and the optional
 * {@code recover} fine-tune ({@code recoverSteps} 0 = none) and BatchNormalization recalibration
 * ({@code recalibrateBn}, {@code recalibrateBatches} batches of {@code recoverBatch} images; applies
 * only when images are given). Immutable.
 */
public record CnnSettings(Ifso.Mode mode, int batch, int scoringBatches, int interval, int rescoreEvery, double r,
    double weightDecay, double lr, String dataset, int images, int recoverSteps, double recoverLr, int recoverBatch,
    boolean recalibrateBn, int recalibrateBatches) {
  public static final java.util.List<String> DATASETS = java.util.List.of("fashion-mnist");
  /** {@code model:<folder>}: {@code datasets/<folder>/} in the pruned model's repository folder. */
  public static final String MODEL = "model:";
  /** {@code dir:<absolute path>}: a dataset folder on this machine (command line; the server resolves model:). */
  public static final String DIRECTORY = "dir:";
  private static final java.util.regex.Pattern MODEL_DATASET = java.util.regex.Pattern
      .compile("model:[A-Za-z0-9][A-Za-z0-9._-]{0,127}");
  /** The IFSO reference settings (algorithms.md §3.7), no data, no recovery. */
  public static final CnnSettings DEFAULTS = new CnnSettings(Ifso.Mode.TRAIN, 128, 2, 10, 10, 1e-2, 1e-4, 0.1, "",
      0, 0, 0.01, 128, true, 8);

  public CnnSettings {
    if (!dataset.isEmpty() && !DATASETS.contains(dataset) && !MODEL_DATASET.matcher(dataset).matches()
        && !dataset.startsWith(DIRECTORY)) {
      throw dev.pruneserve.error.ServingException
          .invalid("unknown image dataset '" + dataset + "'; built-in: " + DATASETS
              + ", or " + MODEL + "<folder> for datasets/<folder>/ (images.npy, labels.npy) in the model's folder");
    }
    if (batch < 2 || batch > 4096 || scoringBatches < 1 || scoringBatches > 1000 || interval < 1 || interval > 1000
        || rescoreEvery < 1 || images < 0 || recoverSteps < 0 || recoverSteps > 1_000_000 || recoverBatch < 2
        || recoverBatch > 4096 || recalibrateBatches < 1 || recalibrateBatches > 10_000) {
      throw dev.pruneserve.error.ServingException
          .invalid("cnn options: batch in [2, 4096], scoring_batches and interval in"
              + " [1, 1000], rescore_every >= 1, recover.steps <= 1e6, recover.batch in [2, 4096],"
              + " recover.recalibrate_batches in [1, 10000]");
    }
    if (!(r > 0 && r < 1) || !(weightDecay > 0 && weightDecay < 1) || !(lr >= 0 && lr <= 10)
        || !(recoverLr >= 0 && recoverLr <= 10)) {
      throw dev.pruneserve.error.ServingException
          .invalid("cnn options: r and weight_decay in (0, 1), learning rates in [0, 10]");
    }
  }

  /** These settings with another dataset. */
  public CnnSettings withDataset(String d) {
    return new CnnSettings(mode, batch, scoringBatches, interval, rescoreEvery, r, weightDecay, lr, d, images,
        recoverSteps, recoverLr, recoverBatch, recalibrateBn, recalibrateBatches);
  }

  /** Whether the pruned network's BN statistics are re-estimated (asked for, and images given). */
  public boolean recalibrates() {
    return recalibrateBn && !dataset.isEmpty();
  }

  /** The Ifso options for a target of remaining FLOPs. */
  public Ifso.Options ifso(Ifso.Criterion c, double targetFlops, long seed) {
    return new Ifso.Options(c, mode, targetFlops, batch, scoringBatches, interval, rescoreEvery, r, weightDecay, lr,
        seed);
  }

  /** Data that determines the output (the schedule only when {@code scoring}); part of variant ids. */
  public Map<String, Object> identity(boolean scoring) {
    Map<String, Object> m = new LinkedHashMap<>();
    if (scoring) {
      m.put("mode", mode.name().toLowerCase(java.util.Locale.ROOT).replace('_', '-'));
      m.put("batch", batch);
      m.put("scoring_batches", scoringBatches);
      m.put("interval", interval);
      if (mode == Ifso.Mode.ONE_SHOT) {
        m.put("rescore_every", rescoreEvery);
      }
      m.put("r", r);
      m.put("weight_decay", weightDecay);
      if (mode == Ifso.Mode.TRAIN) {
        m.put("lr", lr);
      }
    }
    if (!dataset.isEmpty()) {
      Map<String, Object> d = new LinkedHashMap<>();
      d.put("dataset", dataset);
      d.put("count", images);
      m.put("images", d);
    }
    if (recoverSteps > 0) {
      Map<String, Object> r = new LinkedHashMap<>();
      r.put("steps", recoverSteps);
      r.put("lr", recoverLr);
      r.put("batch", recoverBatch);
      m.put("recover", r);
    }
    if (!dataset.isEmpty()) {
      Map<String, Object> bn = new LinkedHashMap<>();
      bn.put("batches", recalibrateBatches);
      bn.put("batch", recoverBatch);
      m.put("recalibrate_bn", recalibrateBn ? bn : false);
    }
    return m;
  }
}
