package dev.pruneserve.pruning.methods;

import dev.pruneserve.pruning.cnn.ChannelPruner;
import dev.pruneserve.pruning.criteria.Criterion;
import dev.pruneserve.pruning.criteria.Pruner;
import java.util.List;

/**
 * A weight-only criterion (random, Mag-SP, L1, L2): local per-layer counts on transformers; on CNNs,
 * uniform channel counts scored by {@code cnnScore} (null: not defined for CNNs). No data needed.
 */
record WeightOnlyMethod(String name, int revision, Criterion criterion, ChannelPruner.Score cnnScore)
    implements
      PruneMethod {
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
    ChannelPruner.Result p = ChannelPruner.prune(c.dense(), cnnScore, c.recipe().ratio(), c.recipe().seed());
    return new Pruner.Result(p.model(), List.of(), p.widths(), 0, 0);
  }
}
