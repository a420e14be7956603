package dev.pruneserve.pruning.methods;

import dev.pruneserve.pruning.criteria.Pruner;
import dev.pruneserve.pruning.ifso.Ifso;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** IFSO (influence-function second-order scores) on CNN channels, to a FLOPs target. */
record IfsoMethod(String name, int revision) implements PruneMethod {
  @Override
  public boolean needsImages(PruneRecipe r) {
    return true;
  }

  @Override
  public boolean usesCnnSchedule() {
    return true;
  }

  @Override
  public boolean prunesTransformers() {
    return false;
  }

  @Override
  public boolean prunesCnns() {
    return true;
  }

  @Override
  public double[] phaseShares() {
    return new double[] {0.3, 0, 0.5, 0.15, 0.05};
  }

  @Override
  public String ratioSemantics(PruneRecipe r) {
    return CNN_FLOPS;
  }

  @Override
  public void labels(PruneRecipe r, Map<String, Object> m) {
    m.put("cnn_mode", modeLabel(r));
  }

  @Override
  public Pruner.Result pruneCnn(PruneContext c) throws IOException {
    return scored(c, Ifso.Criterion.IFSO);
  }

  static String modeLabel(PruneRecipe r) {
    return r.cnn().mode() == Ifso.Mode.TRAIN ? "train: SGD steps between removals, as the authors run it"
        : "one-shot: scores from the fixed dense weights between removals (documented deviation, docs/pruning.md)";
  }

  /** IFSO or Taylor-on-masks removal to {@code 1 − ratio} of the FLOPs, with the bookkeeping in details. */
  static Pruner.Result scored(PruneContext c, Ifso.Criterion criterion) throws IOException {
    PruneRecipe r = c.recipe();
    Ifso.Outcome o = Ifso.prune(c.dense(), c.images(), r.cnn().ifso(criterion, 1 - r.ratio(), r.seed()), c.loader(),
        c.work(), c.progress());
    Map<String, Object> details = new LinkedHashMap<>();
    details.put("flops_before", o.flopsBefore());
    details.put("flops_after", o.flopsAfter());
    details.put("flops_kept", o.flopsAfter() / o.flopsBefore());
    details.put("removals", o.removals());
    details.put("scored_batches", o.scoredBatches());
    details.put("scoring_seconds", o.scoringSeconds());
    details.put("training_seconds", o.trainingSeconds());
    return new Pruner.Result(o.model(), List.of(), o.widths(), 0, 0, details);
  }
}
