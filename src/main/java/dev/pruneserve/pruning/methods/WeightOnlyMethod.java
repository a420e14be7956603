package dev.pruneserve.pruning.methods;

import dev.pruneserve.pruning.cnn.ChannelPruner;
import dev.pruneserve.pruning.criteria.Criterion;
import dev.pruneserve.pruning.criteria.Pruner;
import java.util.List;
import java.util.Map;

/**
 * A weight-only criterion (random, Mag-SP, L1, L2): local per-layer counts on transformers; on CNNs,
 * uniform channel counts scored by {@code cnnScore} (null: not defined for CNNs). No data needed.
 */
record WeightOnlyMethod(String name, int revision, Criterion criterion, ChannelPruner.Score cnnScore)
    implements
      PruneMethod {
  /** The CNN minimum group width (default 1: no constraint); enters the variant id only when set. */
  record Settings(int minChannels) implements MethodSettings {
    @Override
    public void identity(Map<String, Object> m) {
      if (minChannels != 1) {
        m.put("min_channels", minChannels);
      }
    }
  }

  @Override
  public MethodSettings settings(RecipeOptions o) {
    int min = o.integer("min-channels", 1);
    if (min < 1) {
      throw dev.pruneserve.error.ServingException.invalid(o.name("min-channels") + " must be at least 1, got " + min);
    }
    return new Settings(min);
  }

  @Override
  public boolean usesSeed(PruneRecipe r) {
    return criterion == Criterion.RANDOM || needsImages(r);
  }

  @Override
  public double[] phaseShares() {
    return new double[] {0.5, 0, 0.3, 0.15, 0.05};
  }

  @Override
  public boolean prunesCnns() {
    return cnnScore != null;
  }

  @Override
  public Pruner.Result pruneTransformer(PruneContext c) {
    PruneRecipe r = c.recipe();
    if (r.settings(Settings.class).minChannels() != 1) {
      throw dev.pruneserve.error.ServingException.invalid("min-channels applies to CNN channel groups; this model"
          + " is a transformer");
    }
    return Pruner.prune(c.dense(), new Pruner.Options(criterion, r.ratio(), r.seed(), r.firstLayer(), r.endLayer(),
        r.groups()));
  }

  @Override
  public boolean prunesGroupKinds() {
    return true;
  }

  @Override
  public boolean prunesHalfPrecision() {
    return true;
  }

  @Override
  public Pruner.Result pruneCnn(PruneContext c) throws java.io.IOException {
    if (cnnScore == null) {
      return PruneMethod.super.pruneCnn(c);
    }
    ChannelPruner.Result p = ChannelPruner.prune(c.dense(), cnnScore, c.recipe().ratio(), c.recipe().seed(),
        c.recipe().settings(Settings.class).minChannels());
    return new Pruner.Result(p.model(), List.of(), p.widths(), 0, 0);
  }
}
