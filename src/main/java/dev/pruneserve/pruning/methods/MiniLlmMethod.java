package dev.pruneserve.pruning.methods;

import dev.pruneserve.pruning.criteria.Pruner;
import dev.pruneserve.pruning.zo.CounterRng;
import dev.pruneserve.pruning.zo.FmsScores;
import dev.pruneserve.pruning.zo.MiniLlm;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Map;

/** MINI-LLM: forward-only zeroth-order gradients (weight space as reconstructed, or mask space). */
record MiniLlmMethod(String name, int revision) implements PruneMethod {
  /** The estimator's settings ({@link MiniLlm.Settings#DEFAULTS}). */
  record Settings(MiniLlm.Settings zo) implements MethodSettings {
    @Override
    public void identity(Map<String, Object> m) {
      Map<String, Object> z = new LinkedHashMap<>();
      z.put("mode", RecipeOptions.lower(zo.mode()));
      z.put("queries", zo.queries());
      z.put("epsilon", zo.epsilon());
      z.put("law", RecipeOptions.lower(zo.law()));
      if (zo.mode() == MiniLlm.Mode.WEIGHTS) {
        z.put("perturbed", RecipeOptions.lower(zo.perturbed()));
        z.put("fms", zo.fms().name());
        z.put("reduction", RecipeOptions.lower(zo.reduction()));
      }
      z.put("micro_batch", zo.microBatch());
      m.put("mini_llm", z);
    }
  }

  @Override
  public MethodSettings settings(RecipeOptions o) {
    MiniLlm.Settings d = MiniLlm.Settings.DEFAULTS;
    return new Settings(new MiniLlm.Settings(o.choice("zo-mode", MiniLlm.Mode.class, d.mode()),
        o.integer("queries", d.queries()), o.decimal("epsilon", d.epsilon()),
        o.choice("law", CounterRng.Law.class, d.law()), o.choice("perturbed", MiniLlm.Perturbed.class, d.perturbed()),
        o.choice("fms", FmsScores.Variant.class, d.fms()), o.choice("reduction", FmsScores.Reduction.class,
            d.reduction()),
        o.integer("micro-batch", d.microBatch())));
  }

  @Override
  public boolean needsTokens(PruneRecipe r) {
    return true;
  }

  @Override
  public boolean usesSeed(PruneRecipe r) {
    return true;
  }

  @Override
  public double[] phaseShares() {
    return new double[] {0.1, 0.75, 0.1, 0, 0.05};
  }

  @Override
  public void labels(PruneRecipe r, Map<String, Object> m) {
    MiniLlm.Settings s = r.settings(Settings.class).zo();
    m.put("mini_llm_mode", s.mode() == MiniLlm.Mode.WEIGHTS
        ? "weights: faithful to the reconstruction of the paper in docs/algorithms.md §2 ([RECON] Eq. 7, Eq. 9)"
        : "masks: pruneserve extension, not the paper's method");
    m.put("mini_llm_score", s.mode() == MiniLlm.Mode.WEIGHTS ? "FMS " + s.fms().name() + " over member slices"
        : "|dL/dgate| (first-order Taylor of removing the group)");
  }

  @Override
  public Pruner.Result pruneTransformer(PruneContext c) throws IOException {
    PruneRecipe r = c.recipe();
    return MiniLlm.prune(c.dense(), new MiniLlm.Options(r.ratio(), r.firstLayer(), r.endLayer(), r.seed(),
        r.settings(Settings.class).zo()), c.tokens(), c.loader(), c.work(), c.progress()).result();
  }
}
