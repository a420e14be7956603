package dev.pruneserve.pruning.methods;

import dev.pruneserve.error.ServingException;
import dev.pruneserve.pruning.ifso.CnnSettings;
import dev.pruneserve.pruning.ifso.Ifso;
import dev.pruneserve.pruning.recovery.ReconstructSettings;
import dev.pruneserve.pruning.transformer.GroupKinds;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The one recipe parser: request options by their command-line names → {@link PruneRecipe}, with
 * the documented defaults (algorithms.md; docs/pruning.md). The Prune RPC converts its message into
 * these options; the CLI passes its flags. Bad values → INVALID_ARGUMENT naming the option.
 */
public final class RecipeParser {
  /** Every recipe option (the CLI's flags without the leading dashes). */
  public static final Set<String> KEYS = Set.of("seed", "layers", "groups", "flap-metric", "flap-structure",
      "bias-compensation", "zo-mode", "queries", "epsilon", "law", "perturbed", "fms", "reduction", "micro-batch",
      "images", "images-count", "cnn-mode", "cnn-batch", "scoring-batches", "interval", "rescore-every", "fd-r",
      "weight-decay", "lr", "recover-steps", "recover-lr", "recover-batch", "recalibrate-bn", "recalibrate-batches",
      "search-channels", "search-budget", "min-channels", "reconstruct", "reconstruct-lambda",
      "reconstruct-mode", "reconstruct-projections", "reconstruct-samples", "search-subset");

  /** Usage text of the recipe options, for the CLI's --help. */
  public static final String USAGE = String.join("\n",
      "  --method " + String.join("|", MethodRegistry.names()) + "  --ratio p in (0, 1)",
      "  [--seed n] [--layers from:to (to exclusive, -1 = all)] [--groups all|mlp|attention]",
      "  FLAP: [--flap-metric wifv|ifv|wifn] [--flap-structure al-am|ul-um] [--bias-compensation true|false]",
      "  MINI-LLM: [--zo-mode weights|masks] [--queries q] [--epsilon e] [--law gaussian|rademacher]",
      "    [--perturbed eligible|all] [--fms a|c|d] [--reduction sum|mean|max] [--micro-batch n]",
      "  CNN weight-only: [--min-channels n (a group keeps at least n; default 1)]",
      "  any method: [--reconstruct true|false] [--reconstruct-lambda l (default 1e-2)]",
      "    [--reconstruct-mode sequential|one-shot (transformers)] [--reconstruct-projections both|attention|mlp]",
      "    [--reconstruct-samples n (default: every calibration sequence; CNNs 512 images)]",
      "  CNN: [--images fashion-mnist|dir:<folder with images.npy, labels.npy>[:count]] [--cnn-mode train|one-shot]",
      "    [--cnn-batch n] [--scoring-batches n] [--interval n] [--rescore-every n] [--fd-r r] [--weight-decay l]",
      "    [--lr lr] [--recover-steps n] [--recover-lr lr] [--recover-batch n]",
      "    [--recalibrate-bn true|false (default true with images, false with --reconstruct)]",
      "    [--recalibrate-batches n]",
      "  forward search: [--search-channels flap|wanda-sp] [--search-budget per-layer|global]",
      "    [--search-subset n (0 = all)] [--bias-compensation true|false]");

  private RecipeParser() {}

  /** As below, messages naming options by their command-line flags. */
  public static PruneRecipe parse(String method, double ratio, Map<String, String> options) {
    return parse(method, ratio, options, k -> "--" + k);
  }

  /**
   * @param names how messages name an option ({@code --key} on the CLI, the field path in the RPC)
   * @throws ServingException INVALID_ARGUMENT for an unknown method, option or value
   */
  public static PruneRecipe parse(String method, double ratio, Map<String, String> options,
      java.util.function.UnaryOperator<String> names) {
    for (String k : options.keySet()) {
      if (!KEYS.contains(k)) {
        throw ServingException.invalid("unknown option '" + k + "'");
      }
    }
    RecipeOptions o = new RecipeOptions(options, names);
    PruneMethod m = MethodRegistry.byName(method);
    int[] layers = layers(o.text("layers", "0:-1"), o.name("layers"));
    long seed = o.longValue("seed", 0);
    GroupKinds groups = o.choice("groups", GroupKinds.class, GroupKinds.ALL);
    ReconstructSettings reconstruct = reconstruct(o, options);
    if (groups != GroupKinds.ALL && !m.prunesGroupKinds()) {
      throw ServingException.invalid(o.name("groups") + " applies to " + String.join(", ", MethodRegistry.all()
          .stream().filter(PruneMethod::prunesGroupKinds).map(PruneMethod::name).toList()) + "; method '" + m.name()
          + "' prunes heads and channels together");
    }
    MethodSettings settings = m.settings(o);
    CnnSettings cnn = cnn(o, reconstruct != null); // read for every method: any CNN prune may fine-tune (recover-*)
    for (String k : options.keySet()) {
      if (!o.read().contains(k)) { // set, but nothing of this method reads it: a mistake, not a no-op
        throw ServingException.invalid(o.name(k) + " does not apply to method '" + m.name() + "'" + readers(k));
      }
    }
    return new PruneRecipe(m, ratio, seed, layers[0], layers[1], groups, reconstruct, settings, cnn);
  }

  /** The reconstruction options; null when {@code reconstruct} is not true (then none may be set). */
  private static ReconstructSettings reconstruct(RecipeOptions o, Map<String, String> options) {
    List<String> subordinate = List.of("reconstruct-lambda", "reconstruct-mode", "reconstruct-projections",
        "reconstruct-samples");
    if (!o.bool("reconstruct", false)) {
      for (String k : subordinate) {
        if (options.containsKey(k)) {
          throw ServingException.invalid(o.name(k) + " needs " + o.name("reconstruct") + " true");
        }
      }
      return null;
    }
    double lambda = o.decimal("reconstruct-lambda", ReconstructSettings.LAMBDA);
    if (!(lambda >= 0)) {
      throw ServingException.invalid(o.name("reconstruct-lambda") + " must be at least 0, got " + lambda);
    }
    int samples = o.integer("reconstruct-samples", 0);
    if (samples < 0) {
      throw ServingException.invalid(o.name("reconstruct-samples") + " must be at least 0, got " + samples);
    }
    return new ReconstructSettings(o.choice("reconstruct-mode", ReconstructSettings.Mode.class,
        ReconstructSettings.Mode.SEQUENTIAL),
        o.choice("reconstruct-projections", ReconstructSettings.Projections.class,
            ReconstructSettings.Projections.BOTH),
        lambda, samples);
  }

  /** "; it is an option of a, b" for the methods whose settings read {@code key}. */
  private static String readers(String key) {
    List<String> by = MethodRegistry.all().stream().filter(x -> {
      RecipeOptions probe = new RecipeOptions(Map.of());
      x.settings(probe);
      return probe.read().contains(key);
    }).map(PruneMethod::name).toList();
    return by.isEmpty() ? "" : "; it is an option of " + String.join(", ", by);
  }

  private static int[] layers(String v, String name) {
    List<String> parts = List.of(v.split(":", -1));
    try {
      if (parts.size() == 2) {
        return new int[] {Integer.parseInt(parts.get(0)), Integer.parseInt(parts.get(1))};
      }
    } catch (NumberFormatException e) {
      // fall through
    }
    throw ServingException.invalid(name + " must be layer indices from:to (to exclusive, -1 = all), got '" + v
        + "'");
  }

  /**
   * The CNN data, IFSO/Taylor schedule and recover fine-tune; defaults {@link CnnSettings#DEFAULTS}, except
   * that a reconstructing recipe does not recalibrate BN unless asked: reconstruction makes every consumer
   * of a cut channel group match its dense output, so the dense statistics stay right, and re-estimating
   * them on calibration images moves the network away from the dense one (docs/benchmarks.md).
   */
  static CnnSettings cnn(RecipeOptions o, boolean reconstructs) {
    CnnSettings d = CnnSettings.DEFAULTS;
    return new CnnSettings(o.choice("cnn-mode", Ifso.Mode.class, d.mode()), o.integer("cnn-batch", d.batch()),
        o.integer("scoring-batches", d.scoringBatches()), o.integer("interval", d.interval()),
        o.integer("rescore-every", d.rescoreEvery()), o.decimal("fd-r", d.r()),
        o.decimal("weight-decay", d.weightDecay()), o.decimal("lr", d.lr()), o.text("images", ""),
        o.integer("images-count", 0), o.integer("recover-steps", 0), o.decimal("recover-lr", d.recoverLr()),
        o.integer("recover-batch", d.recoverBatch()), o.bool("recalibrate-bn", d.recalibrateBn() && !reconstructs),
        o.integer("recalibrate-batches", d.recalibrateBatches()));
  }
}
