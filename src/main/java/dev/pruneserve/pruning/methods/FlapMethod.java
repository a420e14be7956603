package dev.pruneserve.pruning.methods;

import dev.pruneserve.pruning.criteria.Flap;
import dev.pruneserve.pruning.criteria.Pruner;
import java.io.IOException;
import java.util.Map;

/** FLAP: fluctuation metric, global (AL-AM) or uniform (UL-UM) allocation, bias compensation. */
record FlapMethod(String name, int revision) implements PruneMethod {
  /** FLAP's options; defaults WIFV, AL-AM, compensation on. */
  record Settings(Flap.Metric metric, Flap.Structure structure, boolean compensation) implements MethodSettings {
    @Override
    public void identity(Map<String, Object> m) {
      m.put("metric", metric.name());
      m.put("structure", structure.name());
      m.put("bias_compensation", compensation);
    }
  }

  @Override
  public MethodSettings settings(RecipeOptions o) {
    return new Settings(o.choice("flap-metric", Flap.Metric.class, Flap.Metric.WIFV),
        o.choice("flap-structure", Flap.Structure.class, Flap.Structure.AL_AM),
        o.bool("bias-compensation", defaultCompensation()));
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
  public boolean needsTokens(PruneRecipe r) {
    return true;
  }

  @Override
  public String ratioSemantics(PruneRecipe r) {
    return r.settings(Settings.class).structure() == Flap.Structure.AL_AM
        ? "fraction of decoder-block linear parameters, allocated globally (FLAP AL-AM)"
        : "per layer: int(p*H) heads, int(p*F) channels (FLAP UL-UM)";
  }

  @Override
  public Pruner.Result pruneTransformer(PruneContext c) throws IOException {
    PruneRecipe r = c.recipe();
    Settings s = r.settings(Settings.class);
    Flap.Options o = new Flap.Options(r.ratio(), s.metric(), s.structure(), s.compensation(), r.firstLayer(),
        r.endLayer(), r.groups());
    return Flap.prune(c.dense(), o, c.tokens(), c.loader(), c.work(), c.progress()).result();
  }
}
