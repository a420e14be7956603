package dev.pruneserve.pruning.zo;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pruneserve.onnx.proto.Onnx.ModelProto;
import dev.pruneserve.pruning.Progress;
import dev.pruneserve.pruning.criteria.Flap;
import dev.pruneserve.pruning.criteria.Pruner;
import dev.pruneserve.pruning.criteria.WandaSp;
import dev.pruneserve.runtime.OrtRuntime;
import dev.pruneserve.session.ModelSession;
import dev.pruneserve.testing.Fixtures;
import dev.pruneserve.testing.LmBench;
import dev.pruneserve.testing.Stories15mModels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * MINI-LLM on stories15M (range `all`), side by side with the gradient-free baselines in one run:
 * Wanda-SP, FLAP, the gradient-free limit Σ|W|·‖X‖, faithful MINI-LLM (weights, q from
 * {@code -Dbench.minillm=weights:1,weights:8,weights:64,masks:8,masks:64}; a config may add
 * {@code :fms=C}, {@code :reduction=mean}, {@code :law=rademacher}, {@code :layers=1-5}) and the mask-space
 * extension, each scored once and pruned at p = 0.2 and 0.5: in-domain PPL, SOTU PPL, KL, top-1,
 * scoring time; estimator checks of quality-reference.md §4 (rms(c)/‖g‖, cosine of the gate
 * estimate with the reference backprop gate gradient, Spearman vs Σ|W|·‖X‖). Memory: peak RSS of
 * plain inference and of MINI-LLM, each in its own JVM, in one run.
 * Run: ./mvnw -B test -Pbench -Dtest=MiniLlmBenchTest ({@code -Dbench.baselines=false} skips Wanda-SP/FLAP)
 */
@Tag("bench")
class MiniLlmBenchTest {
  static final double GRAD_NORM_SCORED = 3.0433593641302426; // reference anchor, all layers
  static final double GATE_GRAD_NORM = 0.03867458161842943;
  static final double GRAD_NORM_SCORED_MID = 2.367516653700727; // layers 1–4
  static final double GATE_GRAD_NORM_MID = 0.028937321914869994;

  @Test
  void quality() throws Exception {
    LmBench b = LmBench.open("minillm");
    JsonNode ref = new ObjectMapper().readTree(b.data().resolve("reference-scores.json").toFile());
    List<int[]> calib = b.calib();
    ModelProto dense = b.dense();
    Path dir = b.dir();
    OrtRuntime rt = OrtRuntime.cpu(2);
    try (ModelSession d = b.loadDense()) {
      for (double p : Boolean.parseBoolean(System.getProperty("bench.baselines", "true")) ? new double[] {0.2, 0.5}
          : new double[0]) {
        long t0 = System.nanoTime();
        Pruner.Result wanda = WandaSp.prune(dense, p, 0, -1, calib, rt, dir).result();
        b.row(d, "Wanda-SP (sequential)", p, wanda, (System.nanoTime() - t0) / 1e9);
        t0 = System.nanoTime();
        Pruner.Result flap = Flap.prune(dense, Flap.Options.defaults(p), calib, rt, dir).result();
        b.row(d, "FLAP", p, flap, (System.nanoTime() - t0) / 1e9);
      }
      if (!Boolean.parseBoolean(System.getProperty("bench.taylor", "true"))) {
        return;
      }
      // LLM-Pruner Element¹ with true gradients (MINI-LLM's backprop comparator), scored once
      List<String> scoredNames = ScoredTensor.of(new dev.pruneserve.graph.OnnxGraph(dense),
          dev.pruneserve.pruning.transformer.HeadDiscovery.attentionBlocks(new dev.pruneserve.graph.OnnxGraph(dense)),
          dev.pruneserve.pruning.transformer.GatedMlpDiscovery.gatedMlps(new dev.pruneserve.graph.OnnxGraph(dense)))
          .stream()
          .map(ScoredTensor::name).toList();
      long tt = System.nanoTime();
      MiniLlm.Outcome taylor = dev.pruneserve.pruning.taylor.TaylorLlm.prune(dense, 0.2, 0, -1, calib, rt, dir,
          Progress.NONE);
      double taylorSeconds = (System.nanoTime() - tt) / 1e9;
      for (double p : new double[] {0.2, 0.5}) {
        b.row(d, "LLM-Pruner Element1 (backprop)", p, MiniLlm.select(dense, taylor, p).result(), taylorSeconds);
      }
      Map<String, double[]> trueGrad = dev.pruneserve.pruning.taylor.TaylorLlm.gradients(dense, scoredNames, calib,
          rt, dir, Progress.NONE);
      for (String config : System.getProperty("bench.minillm", "weights:1,weights:8,weights:64,masks:8,masks:64")
          .split(",")) {
        String[] mq = config.split(":");
        Map<String, String> kv = new java.util.HashMap<>();
        for (int i = 2; i < mq.length; i++) {
          kv.put(mq[i].substring(0, mq[i].indexOf('=')), mq[i].substring(mq[i].indexOf('=') + 1));
        }
        MiniLlm.Settings z = MiniLlm.Settings.of(mq[0], Integer.parseInt(mq[1]), 0, kv.getOrDefault("law", ""), "",
            kv.getOrDefault("fms", ""), kv.getOrDefault("reduction", ""), 8);
        String[] layers = kv.getOrDefault("layers", "0-6").split("-");
        long t0 = System.nanoTime();
        MiniLlm.Outcome scored = MiniLlm.prune(dense, new MiniLlm.Options(0.2, Integer.parseInt(layers[0]),
            Integer.parseInt(layers[1]), 0, z), calib, rt, dir, Progress.NONE);
        double seconds = (System.nanoTime() - t0) / 1e9;
        checks(config, scored, ref, !kv.containsKey("layers"));
        if (mq[0].equals("weights") && !kv.containsKey("layers") && !kv.containsKey("law")) {
          cosine(config, dense, scored.c(), trueGrad);
        }
        boolean limitRow = config.equals("weights:1");
        for (double p : new double[] {0.2, 0.5}) {
          MiniLlm.Outcome o = MiniLlm.select(dense, scored, p);
          b.row(d, "MINI-LLM " + (mq[0].equals("weights") ? "weights" : "mask-space (ext.)") + " " + config, p,
              o.result(), seconds);
          if (limitRow) {
            MiniLlm.Outcome limit = MiniLlm.select(dense, new MiniLlm.Outcome(null, scored.limitHeadScores(),
                scored.limitChannelScores(), null, null, scored.c(), Map.of(), Map.of(), Map.of()), p);
            b.row(d, "[ref] sum |W|*||X|| (q->1 limit)", p, limit.result(), 0);
          }
        }
      }
    }
  }

  @Test
  void memory() throws Exception {
    Path data = Fixtures.stories15mData("calib_ids.json");
    Path dir = Files.createTempDirectory("minillm-mem");
    Path model = dir.resolve("dense.onnx");
    Files.write(model, Stories15mModels.dense().toByteArray());
    long infer = MemoryPeakMain.peak("infer", model, data);
    long weights = MemoryPeakMain.peak("weights", model, data);
    long masks = MemoryPeakMain.peak("masks", model, data);
    long taylor = MemoryPeakMain.peak("taylor", model, data);
    long search = MemoryPeakMain.peak("search", model, data);
    System.out.printf("BENCH search-memory | plain inference %d MiB | forward search (defaults, p=0.2) %d MiB"
        + " (%.2fx) | target <= 1.05x |%n", infer >> 20, search >> 20, (double) search / infer);
    System.out.printf("BENCH minillm-memory | plain inference (micro-batch 8) %d MiB | MINI-LLM weights q=2 %d MiB"
        + " (%.2fx) | mask-space q=2 %d MiB (%.2fx) | LLM-Pruner Element1 backprop %d MiB (%.2fx) | MINI-LLM /"
        + " backprop %.2f | targets <= 1.3x inference, <= 0.5 of backprop |%n", infer >> 20, weights >> 20,
        (double) weights / infer, masks >> 20, (double) masks / infer, taylor >> 20, (double) taylor / infer,
        (double) weights / taylor);
    Files.deleteIfExists(model);
  }

  /** cos(ĝ, g): the weights-mode SPSA estimate ĝ = Σ_q c_q z_q (all layers, Gaussian z) vs backprop g. */
  private static void cosine(String config, ModelProto dense, double[] c, Map<String, double[]> g) {
    dev.pruneserve.graph.OnnxGraph og = new dev.pruneserve.graph.OnnxGraph(dense);
    List<ScoredTensor> ts = ScoredTensor.of(og, dev.pruneserve.pruning.transformer.HeadDiscovery.attentionBlocks(og),
        dev.pruneserve.pruning.transformer.GatedMlpDiscovery.gatedMlps(og));
    CounterRng rng = new CounterRng(0, CounterRng.Law.GAUSSIAN);
    double dot = 0;
    double ee = 0;
    double gg = 0;
    long n = 0;
    for (ScoredTensor t : ts) {
      double[] gt = g.get(t.name());
      for (int k = 0; k < gt.length; k++) {
        double e = 0;
        for (int q = 0; q < c.length; q++) {
          e += c[q] * rng.z(rng.stream(q, t.id()), k);
        }
        dot += e * gt[k];
        ee += e * e;
        gg += gt[k] * gt[k];
      }
      n += gt.length;
    }
    System.out.printf("BENCH minillm-cosine | %s | cos(SPSA estimate, backprop gradient) = %.5f | sqrt(q/D) = %.5f"
        + " | ||g|| = %.4f |%n", config, dot / Math.sqrt(ee * gg), Math.sqrt((double) c.length / n), Math.sqrt(gg));
  }

  private static void checks(String config, MiniLlm.Outcome o, JsonNode ref, boolean allLayers) {
    Map<String, Object> d = o.diagnostics();
    double heads = 0;
    double mlp = 0;
    List<?> perLayer = (List<?>) d.get("spearman_vs_weight_activation");
    for (Object m : perLayer) {
      heads += (double) ((Map<?, ?>) m).get("heads_spearman_vs_wa") / perLayer.size();
      mlp += (double) ((Map<?, ?>) m).get("channels_spearman_vs_wa") / perLayer.size();
    }
    double norm = config.startsWith("weights") ? (allLayers ? GRAD_NORM_SCORED : GRAD_NORM_SCORED_MID)
        : (allLayers ? GATE_GRAD_NORM : GATE_GRAD_NORM_MID);
    String extra = "";
    if (config.startsWith("masks") && allLayers) {
      CounterRng rng = new CounterRng(0, CounterRng.Law.GAUSSIAN);
      List<Double> est = new ArrayList<>();
      List<Double> truth = new ArrayList<>();
      OnnxGraphs g = OnnxGraphs.of(Stories15mModels.dense());
      MaskSpsa masks = new MaskSpsa(g.blocks(), g.mlps(), List.of(0, 1, 2, 3, 4, 5));
      for (int l = 0; l < 6; l++) {
        double[][] e = masks.gradient(rng, o.c(), l);
        for (int u = 0; u < e[0].length; u++) {
          est.add(e[0][u]);
          truth.add(ref.get("gate_taylor_signed_grad").get("heads").get(l).get(u).asDouble());
        }
        for (int u = 0; u < e[1].length; u++) {
          est.add(e[1][u]);
          truth.add(ref.get("gate_taylor_signed_grad").get("mlp").get(l).get(u).asDouble());
        }
      }
      double cos = MaskSpsaTest.cosine(est.stream().mapToDouble(Double::doubleValue).toArray(),
          truth.stream().mapToDouble(Double::doubleValue).toArray());
      extra = String.format(" | cos(g_gate est, backprop) %.4f (theory sqrt(q/m) = %.4f)", cos,
          Math.sqrt(o.c().length / (double) est.size()));
    }
    System.out.printf("BENCH minillm-check | %s | rms(c)/||g|| %.3f | Spearman vs sum|W|*||X|| heads %.3f MLP %.3f"
        + " | dense loss %.7f -> %.7f | stats %s ms, queries %s ms, sweep %s ms%s |%n", config,
        (double) d.get("rms_c") / norm, heads, mlp, (double) d.get("dense_loss"),
        (double) d.get("dense_loss_after_queries"), d.get("stats_ms"), d.get("queries_ms"), d.get("sweep_ms"), extra);
  }

  /** Discovery results of a decoder, for regenerating gate estimates. */
  private record OnnxGraphs(List<dev.pruneserve.pruning.transformer.HeadGroup> blocks,
      List<dev.pruneserve.pruning.transformer.MlpGroup> mlps) {
    static OnnxGraphs of(ModelProto m) {
      var g = new dev.pruneserve.graph.OnnxGraph(m);
      return new OnnxGraphs(dev.pruneserve.pruning.transformer.HeadDiscovery.attentionBlocks(g),
          dev.pruneserve.pruning.transformer.GatedMlpDiscovery.gatedMlps(g));
    }
  }
}
