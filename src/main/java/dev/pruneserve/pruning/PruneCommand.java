package dev.pruneserve.pruning;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.pruneserve.eval.TokenFiles;
import dev.pruneserve.onnx.proto.Onnx.ModelProto;
import dev.pruneserve.repository.AtomicFiles;
import dev.pruneserve.runtime.OrtRuntime;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * Command line: {@code prune --model in.onnx --method magnitude-sp --ratio 0.5 [--seed 0]
 * [--layers 0:6] --out out.onnx}. Writes the pruned model and {@code out.onnx.json} (method and
 * options, parameters before/after, per-layer heads and MLP widths, wall time, peak heap).
 * Run through Maven: {@code ./mvnw -B -q -Pprune process-classes -Dprune.args="…"}.
 */
public final class PruneCommand {
  private PruneCommand() {}

  public static void main(String[] args) throws IOException {
    Map<String, String> a = parse(args);
    Path model = Path.of(require(a, "model"));
    Path out = Path.of(require(a, "out"));
    String method = require(a, "method");
    double ratio = Double.parseDouble(require(a, "ratio"));
    long seed = Long.parseLong(a.getOrDefault("seed", "0"));
    String[] layers = a.getOrDefault("layers", "0:-1").split(":");
    long t0 = System.nanoTime();
    ModelProto dense = ModelProto.parseFrom(Files.readAllBytes(model));
    Pruner.Result r;
    Pruner.Options options = null;
    if (method.equals("wanda-sp")) {
      Path calib = Path.of(require(a, "calibration"));
      Path work = Files.createTempDirectory("prune");
      r = WandaSp.prune(dense, ratio, TokenFiles.stories(calib), OrtRuntime.cpu(0), work).result();
      Files.deleteIfExists(work);
    } else {
      Criterion criterion = Criterion.valueOf(method.toUpperCase(Locale.ROOT).replace('-', '_'));
      options = new Pruner.Options(criterion, ratio, seed, Integer.parseInt(layers[0]), Integer.parseInt(layers[1]));
      r = Pruner.prune(dense, options);
    }
    long wallMs = (System.nanoTime() - t0) / 1_000_000;
    AtomicFiles.write(out, r.model().toByteArray());
    Map<String, Object> report = new LinkedHashMap<>();
    report.put("model", model.toString());
    report.put("method", method);
    report.put("options", options == null
        ? Map.of("ratio", ratio, "calibration", a.get("calibration"), "sequential", true,
            "ratio_semantics", "every layer: int(p*H) heads, int(p*F) channels (FLAP repository)")
        : Map.of("ratio", ratio, "seed", seed, "first_layer", options.firstLayer(), "end_layer", options.endLayer(),
            "ratio_semantics", options.criterion() == Criterion.MAGNITUDE_SP
                ? "per layer: int(p*H) heads, int(p*F) channels (FLAP repository)"
                : "per layer: (d - int(d*(1-p))) div hd heads, F - int(F*(1-p)) channels (LLM-Pruner)"));
    report.put("parameters_before", r.parametersBefore());
    report.put("parameters_after", r.parametersAfter());
    report.put("heads_per_layer", r.headsPerLayer());
    report.put("mlp_channels_per_layer", r.channelsPerLayer());
    report.put("wall_ms", wallMs);
    Runtime rt = Runtime.getRuntime();
    report.put("heap_used_bytes_at_end", rt.totalMemory() - rt.freeMemory());
    String json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(report);
    AtomicFiles.write(Path.of(out + ".json"), json.getBytes(StandardCharsets.UTF_8));
    System.out.println(json);
  }

  private static Map<String, String> parse(String[] args) {
    Map<String, String> m = new LinkedHashMap<>();
    for (int i = 0; i + 1 < args.length; i += 2) {
      if (!args[i].startsWith("--")) {
        throw new IllegalArgumentException("expected --option value, got " + args[i]);
      }
      m.put(args[i].substring(2), args[i + 1]);
    }
    return m;
  }

  private static String require(Map<String, String> a, String key) {
    String v = a.get(key);
    if (v == null) {
      System.err.println("usage: prune --model in.onnx --method random|magnitude-sp|magnitude-l1|magnitude-l2|wanda-sp"
          + " --ratio p [--seed n] [--layers from:to] [--calibration stories.json] --out out.onnx   (missing --"
          + key + ")");
      System.exit(2);
    }
    return v;
  }
}
