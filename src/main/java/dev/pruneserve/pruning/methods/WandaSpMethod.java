package dev.pruneserve.pruning.methods;

import dev.pruneserve.pruning.criteria.Pruner;
import dev.pruneserve.pruning.criteria.WandaSp;
import java.io.IOException;
import java.util.List;
import java.util.Map;

/** Wanda-SP (sequential, FLAP repository counts) on token calibration. */
record WandaSpMethod(String name, int revision) implements PruneMethod {
  /** Transformers: token calibration; CNNs: calibration.images instead (labels not needed). */
  @Override
  public boolean needsTokens(PruneRecipe r) {
    return r.cnn().dataset().isEmpty();
  }

  @Override
  public boolean prunesCnns() {
    return true;
  }

  /** Wanda-style channel scores from the images' activations (pruning.cnn.ActivationScores), local ratio. */
  @Override
  public Pruner.Result pruneCnn(PruneContext c) throws IOException {
    if (c.images() == null) {
      throw dev.pruneserve.error.ServingException.invalid(name() + " on a CNN needs calibration.images (labels are"
          + " not needed)");
    }
    var deps = dev.pruneserve.pruning.cnn.ChannelDiscovery.discover(c.dense());
    var scores = dev.pruneserve.pruning.cnn.ActivationScores.wanda(c.dense(), deps, c.images(), c.loader(), c.work(),
        c.progress());
    var p = dev.pruneserve.pruning.cnn.ChannelPruner.prune(c.dense(), deps, scores, c.recipe().ratio(), 1);
    return new Pruner.Result(p.model(), List.of(), p.widths(), 0, 0);
  }

  @Override
  public String ratioSemantics(PruneRecipe r) {
    return r.cnn().dataset().isEmpty() ? FLAP_COUNTS : CNN_CHANNELS;
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
