package dev.pruneserve.pruning.methods;

import dev.pruneserve.pruning.criteria.Pruner;
import dev.pruneserve.pruning.search.ForwardSearch;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Map;

/** pruneserve's forward search: FLAP or Wanda-SP channels, greedy exact head ablation. */
record ForwardSearchMethod(String name, int revision) implements PruneMethod {
  /** Micro-batch of every search forward (calibration sequences per ONNX Runtime call). */
  private static final int MICRO_BATCH = 8;

  /** Channel ranking, head budget, sequences per forward; compensation off unless asked for. */
  record Settings(ForwardSearch.Settings search, boolean compensation) implements MethodSettings {
    @Override
    public void identity(Map<String, Object> m) {
      Map<String, Object> s = new LinkedHashMap<>();
      s.put("channels", RecipeOptions.lower(search.channels()));
      s.put("budget", RecipeOptions.lower(search.budget()));
      s.put("compensation", compensation);
      s.put("subset", search.subset());
      m.put("search", s);
    }
  }

  /** Off: compensation measured worse on stories15M for this method (docs/pruning.md). */
  @Override
  public boolean defaultCompensation() {
    return false;
  }

  @Override
  public MethodSettings settings(RecipeOptions o) {
    ForwardSearch.Settings d = ForwardSearch.Settings.DEFAULTS;
    return new Settings(new ForwardSearch.Settings(o.choice("search-channels", ForwardSearch.Channels.class,
        d.channels()), o.choice("search-budget", ForwardSearch.Budget.class, d.budget()),
        o.integer("search-subset", d.subset())), o.bool("bias-compensation", defaultCompensation()));
  }

  @Override
  public boolean needsTokens(PruneRecipe r) {
    return true;
  }

  @Override
  public double[] phaseShares() {
    return new double[] {0.1, 0, 0.85, 0, 0.05};
  }

  @Override
  public Pruner.Result pruneTransformer(PruneContext c) throws IOException {
    PruneRecipe r = c.recipe();
    if (r.firstLayer() != 0 || r.endLayer() >= 0) {
      throw dev.pruneserve.error.ServingException.invalid("forward-search prunes every layer; a layer range is not"
          + " supported for this method");
    }
    Settings s = r.settings(Settings.class);
    return ForwardSearch.prune(c.dense(), new ForwardSearch.Options(r.ratio(), s.search().channels(),
        s.search().budget(), s.compensation(), s.search().subset(), MICRO_BATCH), c.tokens(), c.loader(), c.work(),
        c.progress()).result();
  }
}
