package dev.pruneserve.pruning.methods;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.pruneserve.eval.LmQuality;
import dev.pruneserve.model.ProcessMemory;
import dev.pruneserve.eval.TokenFiles;
import dev.pruneserve.model.ModelSession;
import dev.pruneserve.onnx.proto.Onnx.ModelProto;
import dev.pruneserve.pruning.Flap;
import dev.pruneserve.pruning.Pruner;
import dev.pruneserve.repository.AtomicFiles;
import dev.pruneserve.runtime.OrtRuntime;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import dev.pruneserve.pruning.ifso.CnnSettings;
import dev.pruneserve.pruning.ifso.Ifso;
import dev.pruneserve.pruning.zo.MiniLlm;
import java.util.Locale;
import java.util.Map;

/**
 * Command line: {@code prune --model in.onnx --method flap --ratio 0.5 [options] --out out.onnx}.
 * Writes the pruned model and {@code out.onnx.json}: the recipe, parameters before/after, per-layer
 * heads and MLP widths, quality against the dense model ({@code --eval}, {@code --eval-ood}),
 * wall times and the process's peak RSS (run in its own JVM by the {@code -Pprune} profile).
 * Bad options print the usage and a reason and exit with status 2.
 */
public final class PruneCommand {
  static final String USAGE = "usage: prune --model in.onnx --method " + String.join("|", PruneRecipe.METHODS)
      + " --ratio p --out out.onnx [--seed n] [--layers from:to] [--calibration calib_ids.json]"
      + " [--flap-metric wifv|ifv|wifn] [--flap-structure al-am|ul-um] [--bias-compensation true|false]"
      + " [--zo-mode weights|masks] [--queries q] [--epsilon e] [--law gaussian|rademacher]"
      + " [--perturbed eligible|all] [--fms a|c|d] [--reduction sum|mean|max] [--micro-batch n]"
      + " [--eval eval_ids.json] [--eval-ood sotu_ids.json] [--threads n]"
      + " [--images fashion-mnist|dir:<folder with images.npy, labels.npy>[:count]] [--cnn-mode train|one-shot] [--cnn-batch n] [--scoring-batches n]"
      + " [--interval n] [--rescore-every n] [--fd-r r] [--weight-decay l] [--lr lr]"
      + " [--recover-steps n] [--recover-lr lr] [--search-channels flap|wanda-sp] [--search-budget per-layer|global]"
      + " [--search-subset n (0 = all)]";

  static final java.util.Set<String> OPTIONS = java.util.Set.of("model", "method", "ratio", "out", "seed", "layers",
      "calibration", "flap-metric", "flap-structure", "bias-compensation", "eval", "eval-ood", "threads", "zo-mode",
      "queries", "epsilon", "law", "perturbed", "fms", "reduction", "micro-batch", "images", "cnn-mode", "cnn-batch",
      "scoring-batches", "interval", "rescore-every", "fd-r", "weight-decay", "lr", "recover-steps", "recover-lr",
      "search-channels", "search-budget", "search-subset");

  private PruneCommand() {}

  static CnnSettings cnn(Map<String, String> a) {
    CnnSettings d = CnnSettings.DEFAULTS;
    String images = a.getOrDefault("images", ""); // name or dir:<path>, then an optional :count
    int count = 0;
    int colon = images.lastIndexOf(':');
    if (colon > 0 && images.substring(colon + 1).matches("\\d+")) {
      count = Integer.parseInt(images.substring(colon + 1));
      images = images.substring(0, colon);
    }
    return new CnnSettings(a.containsKey("cnn-mode") ? Ifso.Mode.valueOf(a.get("cnn-mode").toUpperCase(Locale.ROOT)
        .replace('-', '_')) : d.mode(), integer(a, "cnn-batch", d.batch()), integer(a, "scoring-batches",
        d.scoringBatches()), integer(a, "interval", d.interval()), integer(a, "rescore-every", d.rescoreEvery()),
        Double.parseDouble(a.getOrDefault("fd-r", String.valueOf(d.r()))),
        Double.parseDouble(a.getOrDefault("weight-decay", String.valueOf(d.weightDecay()))),
        Double.parseDouble(a.getOrDefault("lr", String.valueOf(d.lr()))), images, count,
        integer(a, "recover-steps", 0),
        Double.parseDouble(a.getOrDefault("recover-lr", String.valueOf(d.recoverLr()))), d.recoverBatch());
  }

  private static int integer(Map<String, String> a, String key, int fallback) {
    return a.containsKey(key) ? Integer.parseInt(a.get(key)) : fallback;
  }

  public static void main(String[] args) throws IOException {
    Map<String, String> a;
    PruneRecipe recipe;
    int threads;
    try {
      a = parse(args);
      threads = Integer.parseInt(a.getOrDefault("threads", "0"));
      recipe = recipe(a);
      for (String f : List.of("model", "calibration", "eval", "eval-ood")) {
        if (a.containsKey(f) && !Files.isRegularFile(Path.of(a.get(f)))) {
          throw new IllegalArgumentException("--" + f + ": no such file " + a.get(f));
        }
      }
      require(a, "model");
      require(a, "out");
      if (recipe.needsCalibration()) {
        require(a, "calibration");
      }
    } catch (IllegalArgumentException e) { // NumberFormatException included
      System.err.println(USAGE + "\n" + e.getMessage());
      System.exit(2);
      return;
    }
    Path out = Path.of(a.get("out"));
    OrtRuntime rt = OrtRuntime.cpu(threads);
    long t0 = System.nanoTime();
    ModelProto dense = ModelProto.parseFrom(Files.readAllBytes(Path.of(a.get("model"))));
    List<int[]> calibration = a.containsKey("calibration") ? TokenFiles.stories(Path.of(a.get("calibration"))) : null;
    Pruner.Result r = PruneMethods.apply(dense, recipe, calibration, rt);
    long pruneMs = (System.nanoTime() - t0) / 1_000_000;
    AtomicFiles.write(out, r.model().toByteArray());
    Map<String, Object> report = new LinkedHashMap<>();
    report.put("model", a.get("model"));
    report.put("recipe", recipe.describe());
    report.put("calibration", a.get("calibration"));
    report.put("parameters_before", r.parametersBefore());
    report.put("parameters_after", r.parametersAfter());
    report.putAll(PruneMethods.widths(dense, r));
    report.put("prune_ms", pruneMs);
    if (!r.details().isEmpty()) {
      report.put("details", r.details());
    }
    report.put("peak_rss_bytes_after_pruning", ProcessMemory.peakRssBytes());
    if (a.containsKey("eval") || a.containsKey("eval-ood")) {
      long e0 = System.nanoTime();
      report.put("quality", quality(rt, a, dense, out));
      report.put("eval_ms", (System.nanoTime() - e0) / 1_000_000);
    }
    report.put("peak_rss_bytes", ProcessMemory.peakRssBytes());
    String json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(report);
    AtomicFiles.write(Path.of(out + ".json"), json.getBytes(StandardCharsets.UTF_8));
    System.out.println(json);
  }

  /** Perplexity (128-token windows), KL(dense‖pruned) and top-1 agreement, in-domain; PPL out-of-domain. */
  private static Map<String, Object> quality(OrtRuntime rt, Map<String, String> a, ModelProto dense, Path pruned)
      throws IOException {
    Path densePath = Files.createTempFile("dense", ".onnx");
    Map<String, Object> q = new LinkedHashMap<>();
    try {
      Files.write(densePath, dense.toByteArray());
      try (ModelSession d = rt.load("dense/1", densePath); ModelSession p = rt.load("pruned/1", pruned)) {
        if (a.containsKey("eval")) {
          LmQuality.Result in = LmQuality.evaluate(p, d, TokenFiles.storiesStream(Path.of(a.get("eval"))), 128);
          q.put("in_domain", Map.of("perplexity", in.perplexity(), "kl", in.kl(), "top1", in.top1(),
              "windows", in.windows(), "data", a.get("eval")));
        }
        if (a.containsKey("eval-ood")) {
          LmQuality.Result ood = LmQuality.evaluate(p, null, TokenFiles.ids(Path.of(a.get("eval-ood"))), 128);
          q.put("out_of_domain", Map.of("perplexity", ood.perplexity(), "windows", ood.windows(),
              "data", a.get("eval-ood")));
        }
      }
    } finally {
      Files.deleteIfExists(densePath);
    }
    return q;
  }

  static PruneRecipe recipe(Map<String, String> a) {
    String[] layers = a.getOrDefault("layers", "0:-1").split(":");
    if (layers.length != 2) {
      throw new IllegalArgumentException("--layers must be from:to, got " + a.get("layers"));
    }
    try {
      return new PruneRecipe(require(a, "method"), Double.parseDouble(require(a, "ratio")),
          Long.parseLong(a.getOrDefault("seed", "0")), Integer.parseInt(layers[0]), Integer.parseInt(layers[1]),
          Flap.Metric.valueOf(a.getOrDefault("flap-metric", "wifv").toUpperCase(Locale.ROOT)),
          Flap.Structure.valueOf(a.getOrDefault("flap-structure", "al-am").toUpperCase(Locale.ROOT).replace('-', '_')),
          a.containsKey("bias-compensation") ? parseBoolean(a.get("bias-compensation"))
              : PruneRecipe.defaultCompensation(require(a, "method")),
          MiniLlm.Settings.of(a.getOrDefault("zo-mode", ""), Integer.parseInt(a.getOrDefault("queries", "0")),
              Double.parseDouble(a.getOrDefault("epsilon", "0")), a.getOrDefault("law", ""),
              a.getOrDefault("perturbed", ""), a.getOrDefault("fms", ""), a.getOrDefault("reduction", ""),
              Integer.parseInt(a.getOrDefault("micro-batch", "0"))), cnn(a),
          new dev.pruneserve.pruning.search.ForwardSearch.Settings(dev.pruneserve.pruning.search.ForwardSearch.Channels
              .valueOf(a.getOrDefault("search-channels", "flap").toUpperCase(Locale.ROOT).replace('-', '_')),
              dev.pruneserve.pruning.search.ForwardSearch.Budget.valueOf(a.getOrDefault("search-budget", "per-layer")
                  .toUpperCase(Locale.ROOT).replace('-', '_')),
              Integer.parseInt(a.getOrDefault("search-subset", "0"))));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("not a number: " + e.getMessage());
    }
  }

  private static boolean parseBoolean(String s) {
    if (!s.equals("true") && !s.equals("false")) {
      throw new IllegalArgumentException("--bias-compensation must be true or false, got " + s);
    }
    return Boolean.parseBoolean(s);
  }

  static Map<String, String> parse(String[] args) {
    Map<String, String> m = new LinkedHashMap<>();
    if (args.length % 2 != 0) {
      throw new IllegalArgumentException("options come in pairs: --option value");
    }
    for (int i = 0; i < args.length; i += 2) {
      if (!args[i].startsWith("--")) {
        throw new IllegalArgumentException("expected --option value, got " + args[i]);
      }
      if (!OPTIONS.contains(args[i].substring(2))) {
        throw new IllegalArgumentException("unknown option " + args[i]);
      }
      m.put(args[i].substring(2), args[i + 1]);
    }
    return m;
  }

  private static String require(Map<String, String> a, String key) {
    String v = a.get(key);
    if (v == null) {
      throw new IllegalArgumentException("missing --" + key);
    }
    return v;
  }
}
