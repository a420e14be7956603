package dev.pruneserve.pruning.methods;

import dev.pruneserve.error.ServingException;
import dev.pruneserve.pruning.ifso.CnnSettings;
import dev.pruneserve.pruning.recovery.ReconstructSettings;
import dev.pruneserve.pruning.transformer.GroupKinds;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What to prune and how: a method, the options every method shares, the method's own settings and
 * the CNN data/schedule/recovery part. Immutable; built by {@link RecipeParser} (one set of
 * defaults for the RPC and the CLI). {@link #identity()} is data only and is what variant ids hash;
 * {@link #labels()} is prose for reports.
 *
 * @param ratio the target p in (0, 1); its meaning depends on the method ({@link #ratioSemantics()})
 * @param seed random criterion, MINI-LLM's perturbation directions, CNN image order
 * @param firstLayer first eligible layer; {@code endLayer} exclusive, −1 = all
 * @param groups the kinds of transformer groups pruned (heads, MLP channels or both)
 * @param reconstruct the least-squares reconstruction after pruning, null = none
 * @param settings the method's own settings ({@link PruneMethod#settings})
 */
public record PruneRecipe(PruneMethod method, double ratio, long seed, int firstLayer, int endLayer,
    GroupKinds groups, ReconstructSettings reconstruct, MethodSettings settings, CnnSettings cnn) {

  public PruneRecipe {
    cnn = cnn == null ? CnnSettings.DEFAULTS : cnn;
    groups = groups == null ? GroupKinds.ALL : groups;
    if (!(ratio > 0 && ratio < 1)) {
      throw ServingException.invalid("ratio must be in (0, 1), got " + ratio);
    }
    if (firstLayer < 0 || (endLayer >= 0 && endLayer <= firstLayer)) {
      throw ServingException.invalid("layer range [" + firstLayer + ", " + endLayer + ") is empty");
    }
  }

  /** A recipe with every option at its documented default. */
  public static PruneRecipe of(String method, double ratio) {
    return RecipeParser.parse(method, ratio, Map.of());
  }

  /** This recipe with other CNN settings. */
  public PruneRecipe withCnn(CnnSettings c) {
    return new PruneRecipe(method, ratio, seed, firstLayer, endLayer, groups, reconstruct, settings, c);
  }

  /** The method's settings as its own type. */
  public <S extends MethodSettings> S settings(Class<S> type) {
    return type.cast(settings);
  }

  /** The method's own need, or a reconstruction without images (its data is then the calibration tokens). */
  public boolean needsTokens() {
    return method.needsTokens(this) || (reconstructs() && cnn.dataset().isEmpty());
  }

  /** Whether a reconstruction runs after pruning. */
  public boolean reconstructs() {
    return reconstruct != null;
  }

  public boolean needsImages() {
    return method.needsImages(this);
  }

  /**
   * Refuses a recipe whose data is missing: labelled images where it needs them, calibration
   * where it needs tokens ({@code tokensGiven}: the request carries calibration).
   */
  public void requireData(boolean tokensGiven) {
    if (needsImages() && cnn.dataset().isEmpty()) {
      throw ServingException.invalid(missingImages());
    }
    if (needsTokens() && !tokensGiven) {
      throw ServingException.invalid(method.name() + " needs calibration data: give texts, token sequences or"
          + " self_samples in `calibration` (CNNs: calibration.images)");
    }
  }

  /** The one message for a recipe that needs labelled images and names none. */
  String missingImages() {
    return method.name() + (cnn.recoverSteps() > 0 ? " with recover" : "") + " needs labelled training images:"
        + " set calibration.images (built-in: " + CnnSettings.DATASETS + ")";
  }

  public String ratioSemantics() {
    return method.ratioSemantics(this);
  }

  /**
   * The data that determines the pruned model: method, engine revision, ratio, layers, seed where
   * it matters, the method's settings, the CNN part where used. Hashed into variant ids.
   */
  public Map<String, Object> identity() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("method", method.name());
    m.put("engine_revision", method.revision());
    m.put("ratio", ratio);
    m.put("first_layer", firstLayer);
    m.put("end_layer", endLayer);
    if (groups != GroupKinds.ALL) { // absent by default, so ids of recipes from before the option stay
      m.put("groups", groups.name());
    }
    if (reconstructs()) {
      m.put("reconstruct", reconstruct.identity());
    }
    if (method.usesSeed(this)) {
      m.put("seed", seed);
    }
    settings.identity(m);
    method.identity(this, m);
    if (needsImages()) {
      m.put("cnn", cnn.identity(method.usesCnnSchedule()));
    }
    return m;
  }

  /** Explanations for the report: ratio semantics and method labels. Never hashed. */
  public Map<String, Object> labels() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("ratio_semantics", ratioSemantics());
    method.labels(this, m);
    return m;
  }
}
