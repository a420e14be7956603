package dev.pruneserve.pruning.methods;

import dev.pruneserve.pruning.criteria.Pruner;
import dev.pruneserve.pruning.ifso.Ifso;
import dev.pruneserve.pruning.taylor.TaylorLlm;
import java.io.IOException;
import java.util.Map;

/**
 * First-order Taylor: LLM-Pruner Element¹ with backprop on token calibration (transformers), or
 * Taylor on channel masks to a FLOPs target on labelled images (CNNs).
 */
record TaylorMethod(String name, int revision) implements PruneMethod {
  @Override
  public boolean needsTokens(PruneRecipe r) {
    return !needsImages(r);
  }

  @Override
  public boolean usesCnnSchedule() {
    return true;
  }

  @Override
  public boolean prunesCnns() {
    return true;
  }

  @Override
  public double[] phaseShares() {
    return new double[] {0.3, 0, 0.5, 0.15, 0.05}; // LLM calibrating or CNN scoring
  }

  @Override
  public String ratioSemantics(PruneRecipe r) {
    return needsImages(r) ? CNN_FLOPS : LLM_PRUNER_COUNTS;
  }

  @Override
  public void identity(PruneRecipe r, Map<String, Object> m) {
    if (!needsImages(r)) {
      m.put("importance", "element1");
    }
  }

  @Override
  public void labels(PruneRecipe r, Map<String, Object> m) {
    if (needsImages(r)) {
      m.put("cnn_mode", IfsoMethod.modeLabel(r));
    }
  }

  @Override
  public Pruner.Result pruneTransformer(PruneContext c) throws IOException {
    PruneRecipe r = c.recipe();
    return TaylorLlm.prune(c.dense(), r.ratio(), r.firstLayer(), r.endLayer(), c.tokens(), c.loader(), c.work(),
        c.progress()).result();
  }

  @Override
  public Pruner.Result pruneCnn(PruneContext c) throws IOException {
    return IfsoMethod.scored(c, Ifso.Criterion.TAYLOR);
  }
}
