package dev.pruneserve.pruning.methods;

import dev.pruneserve.pruning.criteria.Pruner;
import dev.pruneserve.pruning.criteria.WandaSp;
import java.io.IOException;
import java.util.Map;

/** Wanda-SP (sequential, FLAP repository counts) on token calibration. */
record WandaSpMethod(String name, int revision) implements PruneMethod {
  @Override
  public boolean needsTokens(PruneRecipe r) {
    return true;
  }

  @Override
  public String ratioSemantics(PruneRecipe r) {
    return FLAP_COUNTS;
  }

  @Override
  public void identity(PruneRecipe r, Map<String, Object> m) {
    m.put("sequential", true);
  }

  @Override
  public Pruner.Result pruneTransformer(PruneContext c) throws IOException {
    PruneRecipe r = c.recipe();
    return WandaSp.prune(c.dense(), r.ratio(), r.firstLayer(), r.endLayer(), r.groups(), c.tokens(), c.loader(),
        c.work(), c.progress()).result();
  }

  @Override
  public boolean prunesGroupKinds() {
    return true;
  }

  @Override
  public boolean prunesHalfPrecision() {
    return true;
  }
}
