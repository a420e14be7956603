package dev.pruneserve.pruning.methods;

import dev.pruneserve.error.ServingException;
import dev.pruneserve.pruning.criteria.Pruner;
import java.io.IOException;
import java.util.Map;

/**
 * One pruning method: its wire name, engine revision, settings, data needs, progress shares, ratio
 * semantics and how it runs on a transformer or a CNN. Implementations are stateless singletons
 * registered in {@link MethodRegistry}; adding a method is one class plus one registry line
 * (docs/pruning.md, "Adding a method").
 */
public sealed interface PruneMethod permits WeightOnlyMethod, WandaSpMethod, FlapMethod, MiniLlmMethod,
    ForwardSearchMethod, TaylorMethod, IfsoMethod {
  /** Progress phases of the pruning step in their order; {@link #phaseShares()} follows it. */
  String[] PHASES = {"calibrating", "querying", "scoring", "training", "validating"};

  /** Wire and command-line name, e.g. {@code flap}. */
  String name();

  /**
   * Engine revision: bumped whenever this method's output for the same request changes (a fix, a
   * new default). Part of the variant id, so an identical request after a change makes a new variant.
   */
  int revision();

  /** This method's own settings from request options, defaults applied; bad values → INVALID_ARGUMENT. */
  default MethodSettings settings(RecipeOptions o) {
    return MethodSettings.NONE;
  }

  /** Token calibration sequences needed for {@code r}. */
  default boolean needsTokens(PruneRecipe r) {
    return false;
  }

  /** Labelled training images needed for {@code r} (any method with a recover fine-tune or images given). */
  default boolean needsImages(PruneRecipe r) {
    return !r.cnn().dataset().isEmpty() || r.cnn().recoverSteps() > 0;
  }

  /** The random seed changes the output of {@code r}. */
  default boolean usesSeed(PruneRecipe r) {
    return needsImages(r);
  }

  /** The IFSO/Taylor schedule of {@link PruneRecipe#cnn()} (batch, scoring batches, …) shapes the output. */
  default boolean usesCnnSchedule() {
    return false;
  }

  /** Bias compensation when a request leaves it unset (methods that offer it). */
  default boolean defaultCompensation() {
    return true;
  }

  /** Shares of {@link #PHASES} in the pruning step's progress, summing to 1. */
  default double[] phaseShares() {
    return new double[] {0.5, 0, 0.3, 0.15, 0.05};
  }

  /** What {@code ratio} means for {@code r}, for reports. */
  default String ratioSemantics(PruneRecipe r) {
    return LLM_PRUNER_COUNTS;
  }

  /** Data-only settings of {@code r} that enter the variant id (enums, numbers; never prose). */
  default void identity(PruneRecipe r, Map<String, Object> m) {}

  /** Human-readable labels of {@code r} for the report (never hashed). */
  default void labels(PruneRecipe r, Map<String, Object> m) {}

  /** Whether {@link #pruneTransformer} honours {@link PruneRecipe#groups()} other than all. */
  default boolean prunesGroupKinds() {
    return false;
  }

  /**
   * Whether this method prunes models whose weights are FP16/BF16 in their own type (statistics in
   * FP32); the others need FP32 weights (perturbed, differentiated or gated copies).
   */
  default boolean prunesHalfPrecision() {
    return false;
  }

  /** Whether {@link #pruneTransformer} is implemented. */
  default boolean prunesTransformers() {
    return true;
  }

  /** Whether {@link #pruneCnn} is implemented. */
  default boolean prunesCnns() {
    return false;
  }

  /** Prunes attention heads and MLP/FFN channels of a decoder or encoder. */
  default Pruner.Result pruneTransformer(PruneContext c) throws IOException {
    throw ServingException.invalid(name() + " prunes CNN channels; this model has no prunable convolution"
        + " channel group");
  }

  /** Prunes convolution channel groups; {@code c.images()} is set when {@link #needsImages} holds. */
  default Pruner.Result pruneCnn(PruneContext c) throws IOException {
    throw ServingException.invalid(name() + " is defined for transformer blocks; CNNs take "
        + MethodRegistry.cnnMethods());
  }

  String LLM_PRUNER_COUNTS = "per layer: (d - int(d*(1-p))) div hd heads, F - int(F*(1-p)) channels (LLM-Pruner)";
  String FLAP_COUNTS = "per layer: int(p*H) heads, int(p*F) channels (FLAP repository)";
  String CNN_CHANNELS = "per channel group: C - int(C*(1-p)) channels (torch-pruning)";
  String CNN_FLOPS = "fraction of the CNN's FLOPs removed (global greedy, one channel per decision)";
}
