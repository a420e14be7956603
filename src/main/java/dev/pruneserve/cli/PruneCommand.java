package dev.pruneserve.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.pruneserve.error.ServingException;
import dev.pruneserve.eval.LmQuality;
import dev.pruneserve.eval.TokenFiles;
import dev.pruneserve.model.ProcessMemory;
import dev.pruneserve.onnx.proto.Onnx.ModelProto;
import dev.pruneserve.pruning.criteria.Pruner;
import dev.pruneserve.pruning.methods.PruneMethods;
import dev.pruneserve.pruning.methods.PruneRecipe;
import dev.pruneserve.pruning.methods.RecipeParser;
import dev.pruneserve.repository.AtomicFiles;
import dev.pruneserve.session.ModelSession;
import dev.pruneserve.session.SessionLoader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.IntFunction;

/**
 * {@code prune --model in.onnx --method flap --ratio 0.5 [options] --out out.onnx}: writes the
 * pruned model and {@code out.onnx.json} (recipe, labels, parameters before/after, widths, quality
 * against the dense model with {@code --eval}/{@code --eval-ood}, wall times, peak RSS). Recipe
 * options and defaults are the Prune RPC's ({@link RecipeParser}). Bad options → {@link
 * UsageException}. Single-threaded.
 */
final class PruneCommand {
  /** Options of this command besides the recipe's. */
  static final Set<String> OWN = Set.of("model", "method", "ratio", "out", "calibration", "eval", "eval-ood",
      "threads");

  static final String USAGE = String.join("\n",
      "usage: pruneserve prune --model in.onnx --method m --ratio p --out out.onnx [options] [--verbose]",
      "  --model in.onnx          the dense ONNX model (not changed)",
      "  --out out.onnx           the pruned model; its report goes to out.onnx.json and standard output",
      "  [--calibration ids.json] token-id calibration sequences (needed by the calibration methods)",
      "  [--eval ids.json] [--eval-ood ids.json]  perplexity/KL/top-1 against the dense model, PPL out of domain",
      "  [--threads n]            ONNX Runtime intra-op threads (0 = all cores)",
      "recipe options (the Prune RPC's, same defaults):",
      RecipeParser.USAGE);

  private PruneCommand() {}

  /** Runs the command; {@code runtime} makes the session loader for a thread count. */
  static void run(Map<String, String> a, IntFunction<SessionLoader> runtime) throws IOException {
    for (String k : a.keySet()) {
      if (!OWN.contains(k) && !RecipeParser.KEYS.contains(k)) {
        throw new UsageException("unknown option --" + k);
      }
    }
    PruneRecipe recipe = RecipeParser.parse(require(a, "method"), ratio(require(a, "ratio")), recipeOptions(a));
    Path model = existing(a, "model");
    Path out = Path.of(require(a, "out"));
    Path calibrationFile = a.containsKey("calibration") ? existing(a, "calibration") : null;
    Path eval = a.containsKey("eval") ? existing(a, "eval") : null;
    Path evalOod = a.containsKey("eval-ood") ? existing(a, "eval-ood") : null;
    int threads = new dev.pruneserve.pruning.methods.RecipeOptions(Map.of("threads", a.getOrDefault("threads", "0")))
        .integer("threads", 0);
    SessionLoader rt = runtime.apply(threads);
    long t0 = System.nanoTime();
    dev.pruneserve.graph.ModelFiles.Loaded loaded = dev.pruneserve.graph.ModelFiles.read(model);
    ModelProto dense = loaded.model();
    List<int[]> calibration = calibrationFile == null ? null : TokenFiles.stories(calibrationFile);
    PruneMethods.Family family = PruneMethods.family(dense);
    Pruner.Result r = PruneMethods.apply(dense, family, recipe, calibration, rt, dev.pruneserve.pruning.Progress.NONE);
    long pruneMs = (System.nanoTime() - t0) / 1_000_000;
    // a model read with external data (or a large one) is written with its own data file beside it
    dev.pruneserve.repository.ModelFileWriter.write(r.model(), out, loaded.externalData());
    Map<String, Object> report = new LinkedHashMap<>();
    report.put("model", model.toString());
    report.put("recipe", recipe.identity());
    report.put("labels", recipe.labels());
    report.put("calibration", calibrationFile == null ? null : calibrationFile.toString());
    report.put("parameters_before", r.parametersBefore());
    report.put("parameters_after", r.parametersAfter());
    report.putAll(PruneMethods.widths(family, r));
    report.put("prune_ms", pruneMs);
    if (!r.details().isEmpty()) {
      report.put("details", r.details());
    }
    report.put("peak_rss_bytes_after_pruning", ProcessMemory.peakRssBytes());
    if (eval != null || evalOod != null) {
      long e0 = System.nanoTime();
      report.put("quality", quality(rt, eval, evalOod, dense, out));
      report.put("eval_ms", (System.nanoTime() - e0) / 1_000_000);
    }
    report.put("peak_rss_bytes", ProcessMemory.peakRssBytes());
    String json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(report);
    AtomicFiles.write(Path.of(out + ".json"), json.getBytes(StandardCharsets.UTF_8));
    System.out.println(json);
  }

  /**
   * The recipe options among the flags; {@code --images name[:count]} becomes {@code images} and
   * {@code images-count} (the count is the last colon-separated part when it is a number).
   */
  static Map<String, String> recipeOptions(Map<String, String> a) {
    Map<String, String> m = new LinkedHashMap<>();
    a.forEach((k, v) -> {
      if (RecipeParser.KEYS.contains(k)) {
        m.put(k, v);
      }
    });
    String images = m.get("images");
    int colon = images == null ? -1 : images.lastIndexOf(':');
    if (colon > 0 && images.substring(colon + 1).matches("\\d+")) {
      m.put("images", images.substring(0, colon));
      m.put("images-count", images.substring(colon + 1));
    }
    return m;
  }

  /** Perplexity (128-token windows), KL(dense‖pruned) and top-1 agreement, in-domain; PPL out-of-domain. */
  private static Map<String, Object> quality(SessionLoader rt, Path eval, Path evalOod, ModelProto dense, Path pruned)
      throws IOException {
    Path densePath = Files.createTempFile(dev.pruneserve.repository.Scratch.dir(), "dense", ".onnx");
    Map<String, Object> q = new LinkedHashMap<>();
    try {
      dev.pruneserve.repository.ModelFileWriter.write(dense, densePath, false);
      try (ModelSession d = rt.load("dense/1", densePath); ModelSession p = rt.load("pruned/1", pruned)) {
        if (eval != null) {
          LmQuality.Result in = LmQuality.evaluate(p, d, TokenFiles.storiesStream(eval), 128);
          q.put("in_domain", Map.of("perplexity", in.perplexity(), "kl", in.kl(), "top1", in.top1(),
              "windows", in.windows(), "data", eval.toString()));
        }
        if (evalOod != null) {
          LmQuality.Result ood = LmQuality.evaluate(p, null, TokenFiles.ids(evalOod), 128);
          q.put("out_of_domain", Map.of("perplexity", ood.perplexity(), "windows", ood.windows(),
              "data", evalOod.toString()));
        }
      }
    } finally {
      dev.pruneserve.repository.ModelFileWriter.delete(densePath);
    }
    return q;
  }

  private static double ratio(String v) {
    try {
      return Double.parseDouble(v);
    } catch (NumberFormatException e) {
      throw new UsageException("--ratio must be a number in (0, 1), got '" + v + "'");
    }
  }

  private static Path existing(Map<String, String> a, String key) {
    Path p = Path.of(require(a, key));
    if (!Files.isRegularFile(p)) {
      throw new UsageException("--" + key + ": no such file " + p);
    }
    return p;
  }

  private static String require(Map<String, String> a, String key) {
    String v = a.get(key);
    if (v == null) {
      throw new UsageException("missing --" + key);
    }
    return v;
  }

  /** A usage error (exit status 2); a recipe refused with INVALID_ARGUMENT counts as one too. */
  static boolean isUsage(Throwable t) {
    return t instanceof UsageException || (t instanceof ServingException s
        && s.kind() == dev.pruneserve.error.ErrorKind.INVALID_ARGUMENT);
  }
}
