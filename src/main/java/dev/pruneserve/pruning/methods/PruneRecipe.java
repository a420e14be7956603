package dev.pruneserve.pruning.methods;

import dev.pruneserve.pruning.Criterion;
import dev.pruneserve.pruning.Flap;
import dev.pruneserve.pruning.Pruner;
import dev.pruneserve.pruning.ifso.CnnSettings;
import dev.pruneserve.pruning.search.ForwardSearch;
import dev.pruneserve.pruning.zo.MiniLlm;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * What to prune and how: a method and its options, with the defaults of algorithms.md. Immutable;
 * {@link #describe()} is the canonical form written into reports (and later variant manifests).
 *
 * @param method one of {@link #METHODS}
 * @param ratio the target p in (0, 1); its meaning depends on the method ({@link #ratioSemantics()})
 * @param seed random criterion and MINI-LLM's perturbation directions
 * @param firstLayer first eligible layer; {@code endLayer} exclusive, −1 = all
 */
public record PruneRecipe(String method, double ratio, long seed, int firstLayer, int endLayer,
    Flap.Metric flapMetric, Flap.Structure flapStructure, boolean biasCompensation, MiniLlm.Settings miniLlm,
    CnnSettings cnn, ForwardSearch.Settings search) {
  public static final java.util.List<String> METHODS = java.util.List.of("random", "magnitude-sp", "magnitude-l1",
      "magnitude-l2", "wanda-sp", "flap", "mini-llm", "ifso", "taylor", "forward-search");

  public PruneRecipe {
    miniLlm = miniLlm == null ? MiniLlm.Settings.DEFAULTS : miniLlm;
    cnn = cnn == null ? CnnSettings.DEFAULTS : cnn;
    search = search == null ? ForwardSearch.Settings.DEFAULTS : search;
    if (!METHODS.contains(method)) {
      throw new IllegalArgumentException("unknown method '" + method + "'; expected one of " + METHODS);
    }
    if (!(ratio > 0 && ratio < 1)) {
      throw new IllegalArgumentException("ratio must be in (0, 1), got " + ratio);
    }
    if (firstLayer < 0 || (endLayer >= 0 && endLayer <= firstLayer)) {
      throw new IllegalArgumentException("layer range [" + firstLayer + ", " + endLayer + ") is empty");
    }
  }

  /** This recipe with other CNN settings. */
  public PruneRecipe withCnn(CnnSettings c) {
    return new PruneRecipe(method, ratio, seed, firstLayer, endLayer, flapMetric, flapStructure, biasCompensation,
        miniLlm, c, search);
  }

  /** A recipe with every option at its documented default (all layers, seed 0, FLAP WIFV/AL-AM + bias). */
  public static PruneRecipe of(String method, double ratio) {
    return new PruneRecipe(method, ratio, 0, 0, -1, Flap.Metric.WIFV, Flap.Structure.AL_AM, defaultCompensation(method),
        MiniLlm.Settings.DEFAULTS, CnnSettings.DEFAULTS, ForwardSearch.Settings.DEFAULTS);
  }

  /**
   * Bias compensation when a request leaves it unset: on (FLAP's default) except for the forward
   * search, where it measured worse on stories15M (docs/pruning.md).
   */
  public static boolean defaultCompensation(String method) {
    return !method.equals("forward-search");
  }

  /** Token calibration sequences needed (LLM methods; Taylor when no training images are given). */
  public boolean needsCalibration() {
    return method.equals("wanda-sp") || method.equals("flap") || method.equals("mini-llm")
        || method.equals("forward-search") || (method.equals("taylor") && !needsImages());
  }

  /** Labelled training images needed: IFSO, Taylor on a CNN, or a recover fine-tune. */
  public boolean needsImages() {
    return method.equals("ifso") || !cnn.dataset().isEmpty() || cnn.recoverSteps() > 0;
  }

  /** The weight-only criterion of this recipe; only for methods that have one. */
  Criterion criterion() {
    return Criterion.valueOf(method.toUpperCase(Locale.ROOT).replace('-', '_'));
  }

  public String ratioSemantics() {
    return switch (method) {
      case "flap" -> flapStructure == Flap.Structure.AL_AM
          ? "fraction of decoder-block linear parameters, allocated globally (FLAP AL-AM)"
          : "per layer: int(p*H) heads, int(p*F) channels (FLAP UL-UM)";
      case "wanda-sp", "magnitude-sp" -> "per layer: int(p*H) heads, int(p*F) channels (FLAP repository)";
      case "ifso" -> "fraction of the CNN's FLOPs removed (global greedy, one channel per decision)";
      case "forward-search" -> "per layer: (d - int(d*(1-p))) div hd heads, F - int(F*(1-p)) channels (LLM-Pruner)";
      case "taylor" -> needsImages() ? "fraction of the CNN's FLOPs removed (global greedy, one channel per decision)"
          : "per layer: (d - int(d*(1-p))) div hd heads, F - int(F*(1-p)) channels (LLM-Pruner)";
      default -> "per layer: (d - int(d*(1-p))) div hd heads, F - int(F*(1-p)) channels (LLM-Pruner)";
    };
  }

  public Map<String, Object> describe() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("method", method);
    m.put("ratio", ratio);
    m.put("ratio_semantics", ratioSemantics());
    m.put("first_layer", firstLayer);
    m.put("end_layer", endLayer);
    if (method.equals("random") || method.equals("mini-llm") || needsImages()) {
      m.put("seed", seed);
    }
    if (method.equals("mini-llm")) {
      m.put("mini_llm", miniLlm.describe());
    }
    if (needsImages()) {
      m.put("cnn", cnn.describe(method.equals("ifso") || method.equals("taylor")));
    } else if (method.equals("taylor")) {
      m.put("importance", "element1");
    }
    if (method.equals("forward-search")) {
      m.put("search", search.describe(biasCompensation));
    }
    if (method.equals("wanda-sp")) {
      m.put("sequential", true);
    }
    if (method.equals("flap")) {
      m.put("metric", flapMetric.name());
      m.put("structure", flapStructure.name());
      m.put("bias_compensation", biasCompensation);
    }
    return m;
  }
}
