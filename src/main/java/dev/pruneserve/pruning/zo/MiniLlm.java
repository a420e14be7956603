package dev.pruneserve.pruning.zo;

import dev.pruneserve.graph.OnnxGraph;
import dev.pruneserve.onnx.proto.Onnx.ModelProto;
import dev.pruneserve.pruning.Progress;
import dev.pruneserve.pruning.calibration.Calibration;
import dev.pruneserve.pruning.criteria.Criterion;
import dev.pruneserve.pruning.criteria.Pruner;
import dev.pruneserve.pruning.transformer.DecoderStructure;
import dev.pruneserve.pruning.transformer.GatedMlpDiscovery;
import dev.pruneserve.pruning.transformer.HeadDiscovery;
import dev.pruneserve.pruning.transformer.HeadGroup;
import dev.pruneserve.pruning.transformer.MlpGroup;
import dev.pruneserve.pruning.transformer.Surgery;
import dev.pruneserve.session.SessionLoader;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * MINI-LLM (algorithms.md §2): Feature Map Sensitivity with zeroth-order gradients from forward
 * passes only. One clean calibration pass gives each scored linear's input statistics; q SPSA
 * queries (2q loss evaluations on the calibration set) give the projected gradients c_i; a
 * streaming sweep regenerates ĝ per element and scores FMS; each eligible layer then loses its
 * lowest heads and MLP channels with one local ratio (LLM-Pruner arithmetic). {@link Mode#MASKS}
 * is pruneserve's mask-space extension ({@link MaskSpsa}), not the paper's method. Single-threaded
 * apart from the parallel sweep; the input model is not changed.
 */
public final class MiniLlm {
  /** WEIGHTS = the paper's estimator over weights as reconstructed in algorithms.md §2 (Eq. 7, 9 [RECON]); MASKS = pruneserve's gate-space extension. */
  public enum Mode {
    WEIGHTS, MASKS
  }

  /** Which weights SPSA perturbs: the scored matrices of the eligible layers, or of every layer. */
  public enum Perturbed {
    ELIGIBLE, ALL
  }

  /**
   * The estimator's settings, defaults of algorithms.md §2.5 ({@link #DEFAULTS}); [RECON]/[UNKNOWN]
   * items are documented in docs/pruning.md. {@code microBatch}: calibration sequences per forward
   * (every loss evaluation covers all calibration sequences).
   */
  public record Settings(Mode mode, int queries, double epsilon, CounterRng.Law law, Perturbed perturbed,
      FmsScores.Variant fms, FmsScores.Reduction reduction, int microBatch) {
    public static final Settings DEFAULTS = new Settings(Mode.WEIGHTS, 1, 1e-3, CounterRng.Law.GAUSSIAN,
        Perturbed.ELIGIBLE, FmsScores.Variant.A, FmsScores.Reduction.SUM, 8);

    public Settings {
      if (queries < 1 || queries > 4096) {
        throw dev.pruneserve.error.ServingException.invalid("queries must be in [1, 4096], got " + queries);
      }
      if (!(epsilon >= 1e-6 && epsilon < 1)) { // below ~1e-6, W ± εz rounds back to W in float32
        throw dev.pruneserve.error.ServingException.invalid("epsilon must be in [1e-6, 1), got " + epsilon);
      }
      if (microBatch < 1 || microBatch > 256) {
        throw dev.pruneserve.error.ServingException.invalid("micro_batch must be in [1, 256], got " + microBatch);
      }
    }

    /**
     * Settings from wire or command-line values; "" or 0 means the default. Enum names are
     * case-insensitive ({@code weights|masks}, {@code gaussian|rademacher}, {@code eligible|all},
     * {@code A|C|D}, {@code sum|mean|max}).
     */
    public static Settings of(String mode, int queries, double epsilon, String law, String perturbed, String fms,
        String reduction, int microBatch) {
      Settings d = DEFAULTS;
      return new Settings(value(Mode.class, mode, "mode", d.mode()), queries == 0 ? d.queries() : queries,
          epsilon == 0 ? d.epsilon() : epsilon, value(CounterRng.Law.class, law, "law", d.law()),
          value(Perturbed.class, perturbed, "perturbed", d.perturbed()),
          value(FmsScores.Variant.class, fms, "fms", d.fms()),
          value(FmsScores.Reduction.class, reduction, "reduction", d.reduction()),
          microBatch == 0 ? d.microBatch() : microBatch);
    }

    private static <E extends Enum<E>> E value(Class<E> type, String v, String what, E dflt) {
      if (v == null || v.isEmpty()) {
        return dflt;
      }
      try {
        return Enum.valueOf(type, v.toUpperCase(java.util.Locale.ROOT).replace('-', '_'));
      } catch (IllegalArgumentException e) {
        throw dev.pruneserve.error.ServingException.invalid("mini-llm " + what + " '" + v + "' is not one of "
            + java.util.Arrays.toString(type.getEnumConstants()).toLowerCase(java.util.Locale.ROOT));
      }
    }

  }

  /** One run: local ratio, layer range [firstLayer, endLayer) (−1 = all), direction seed, settings. */
  public record Options(double ratio, int firstLayer, int endLayer, long seed, Settings settings) {
    public Options {
      if (!(ratio > 0 && ratio < 1)) {
        throw new IllegalArgumentException("ratio must be in (0, 1), got " + ratio);
      }
    }

    public static Options defaults(double ratio) {
      return new Options(ratio, 0, -1, 0, Settings.DEFAULTS);
    }

    public Options withSettings(Settings s) {
      return new Options(ratio, firstLayer, endLayer, seed, s);
    }
  }

  /**
   * The pruned model; per-layer head and channel scores and their gradient-free limit Σ|W|·‖X‖ (null
   * outside the eligible layers); the projected gradients c_i; diagnostics (dense loss before/after scoring, Spearman against
   * Σ|W|·‖X‖ per layer, rms(c), timings); the removed units per layer.
   */
  public record Outcome(Pruner.Result result, double[][] headScores, double[][] channelScores,
      double[][] limitHeadScores, double[][] limitChannelScores, double[] c,
      Map<String, Object> diagnostics, Map<Integer, BitSet> removedHeads, Map<Integer, BitSet> removedChannels) {}

  private MiniLlm() {}

  /** Reports calibrating (per sequence) → querying (per query) → scoring (per tensor). */
  public static Outcome prune(ModelProto dense, Options o, List<int[]> calibration, SessionLoader loader, Path work,
      Progress progress) throws IOException {
    Settings z = o.settings();
    OnnxGraph g = new OnnxGraph(dense);
    int layers = DecoderStructure.requireDecoderLayers(g);
    List<HeadGroup> blocks = HeadDiscovery.attentionBlocks(g);
    List<MlpGroup> mlps = GatedMlpDiscovery.gatedMlps(g);
    int end = o.endLayer() < 0 ? layers : Math.min(o.endLayer(), layers);
    if (o.firstLayer() >= end) {
      throw new IllegalArgumentException("layer range [" + o.firstLayer() + ", " + end + ") has no layer");
    }
    List<Integer> eligible = new ArrayList<>();
    for (int l = o.firstLayer(); l < end; l++) {
      eligible.add(l);
    }
    List<ScoredTensor> all = ScoredTensor.of(g, blocks, mlps);
    List<ScoredTensor> scored = all.stream().filter(t -> eligible.contains(t.layer())).toList();
    Map<String, Object> diag = new LinkedHashMap<>();

    long t0 = System.nanoTime();
    List<String> values = scored.stream().map(ScoredTensor::input).distinct().toList();
    Calibration.Stats stats = Calibration.run(dense, values, calibration, loader, work.resolve("zo-stats.onnx"),
        (k, n) -> progress.report("calibrating", (double) k / n));
    List<FmsScores.Activation> acts = new ArrayList<>();
    for (ScoredTensor t : scored) {
      int k = values.indexOf(t.input());
      acts.add(new FmsScores.Activation(stats.sumSquares()[k], stats.mean(k)));
    }
    List<float[]> weights = scored.stream().map(t -> t.values(g)).toList();
    long t1 = System.nanoTime();

    CounterRng rng = new CounterRng(o.seed(), z.law());
    Perturbation perturbation;
    List<LossProbe.Gate> gates = List.of();
    List<String> weightInputs = List.of();
    if (z.mode() == Mode.WEIGHTS) {
      List<ScoredTensor> moved = z.perturbed() == Perturbed.ALL ? all : scored;
      perturbation = new WeightSpsa(moved, moved == scored ? weights : moved.stream().map(t -> t.values(g)).toList());
      weightInputs = moved.stream().map(ScoredTensor::name).toList();
      diag.put("perturbed_weights", moved.stream().mapToLong(t -> (long) t.in() * t.out()).sum());
    } else {
      MaskSpsa masks = new MaskSpsa(blocks, mlps, eligible);
      perturbation = masks;
      gates = masks.gates();
      diag.put("perturbed_gates", eligible.stream().mapToLong(l -> blocks.get(l).units() + mlps.get(l).width()).sum());
    }
    double[] c;
    try (LossProbe probe = LossProbe.open(dense, weightInputs, gates, calibration, z.microBatch(), loader,
        work.resolve("zo-probe.onnx"))) {
      double before = probe.meanLoss(perturbation.feeds(rng, 0, 0, z.epsilon()));
      c = perturbation.queries(probe, rng, z.queries(), z.epsilon(), progress);
      double after = probe.meanLoss(perturbation.feeds(rng, 0, 0, z.epsilon()));
      diag.put("dense_loss", before);
      diag.put("dense_loss_after_queries", after);
      diag.put("predicted_tokens", probe.predictedTokens());
    }
    long t2 = System.nanoTime();

    int[] nh = blocks.stream().mapToInt(HeadGroup::units).toArray();
    int[] nc = mlps.stream().mapToInt(MlpGroup::width).toArray();
    AtomicInteger swept = new AtomicInteger();
    Object lock = new Object();
    FmsScores.Scores s = FmsScores.sweep(scored, weights, acts, z.mode() == Mode.WEIGHTS ? c : new double[0], rng,
        z.fms(), z.reduction(), nh, nc, () -> {
          synchronized (lock) { // reports come from the sweeping threads, one at a time
            progress.report("scoring", (double) swept.incrementAndGet() / scored.size());
          }
        });
    double[][] heads = s.heads();
    double[][] channels = s.channels();
    if (z.mode() == Mode.MASKS) {
      MaskSpsa masks = (MaskSpsa) perturbation;
      for (int l : eligible) {
        double[][] grad = masks.gradient(rng, c, l);
        heads[l] = abs(grad[0]);
        channels[l] = abs(grad[1]);
      }
    }
    long t3 = System.nanoTime();
    diagnostics(diag, c, eligible, s, heads, channels);
    diag.put("stats_ms", (t1 - t0) / 1_000_000);
    diag.put("queries_ms", (t2 - t1) / 1_000_000);
    diag.put("sweep_ms", (t3 - t2) / 1_000_000);

    return select(dense, new Outcome(null, heads, channels, s.waHeads(), s.waChannels(), c, diag, Map.of(),
        Map.of()), o.ratio());
  }

  /**
   * Prunes {@code dense} with the scores of {@code scored} at {@code ratio} (scores do not depend on
   * the ratio, so one scoring serves several ratios): in every scored layer the lowest
   * {@code (d − int(d(1−p))) div hd} heads and {@code F − int(F(1−p))} channels go, never all.
   */
  public static Outcome select(ModelProto dense, Outcome scored, double ratio) {
    OnnxGraph g = new OnnxGraph(dense);
    List<HeadGroup> blocks = HeadDiscovery.attentionBlocks(g);
    List<MlpGroup> mlps = GatedMlpDiscovery.gatedMlps(g);
    Map<Integer, BitSet> dropHeads = new HashMap<>();
    Map<Integer, BitSet> dropChannels = new HashMap<>();
    for (int l = 0; l < blocks.size(); l++) {
      if (scored.headScores()[l] == null) {
        continue;
      }
      HeadGroup b = blocks.get(l);
      int nh = Math.min(b.units() - 1, Criterion.MAGNITUDE_L2.headsToRemove(ratio, b.units(), b.unitWidth()));
      int width = mlps.get(l).width();
      int nc = Math.min(width - 1, Criterion.MAGNITUDE_L2.channelsToRemove(ratio, width));
      dropHeads.put(l, Pruner.lowest(scored.headScores()[l], nh));
      dropChannels.put(l, Pruner.lowest(scored.channelScores()[l], nc));
    }
    ModelProto pruned = Surgery.removeHeads(g, blocks, dropHeads);
    OnnxGraph g2 = new OnnxGraph(pruned);
    pruned = Surgery.removeMlpChannels(g2, GatedMlpDiscovery.gatedMlps(g2), dropChannels);
    return new Outcome(Pruner.summarise(dense, pruned).withDetails(scored.diagnostics()), scored.headScores(),
        scored.channelScores(), scored.limitHeadScores(), scored.limitChannelScores(), scored.c(),
        scored.diagnostics(), dropHeads, dropChannels);
  }

  private static void diagnostics(Map<String, Object> diag, double[] c, List<Integer> eligible, FmsScores.Scores s,
      double[][] heads, double[][] channels) {
    double sq = 0;
    for (double v : c) {
      sq += v * v;
    }
    diag.put("queries", c.length);
    diag.put("rms_c", Math.sqrt(sq / c.length));
    diag.put("c", c.clone());
    List<Map<String, Object>> rho = new ArrayList<>();
    for (int l : eligible) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("layer", l);
      m.put("heads_spearman_vs_wa", heads[l].length > 1 ? Spearman.rho(heads[l], s.waHeads()[l]) : 1.0);
      m.put("channels_spearman_vs_wa", Spearman.rho(channels[l], s.waChannels()[l]));
      rho.add(m);
    }
    diag.put("spearman_vs_weight_activation", rho);
  }

  private static double[] abs(double[] v) {
    double[] out = new double[v.length];
    for (int i = 0; i < v.length; i++) {
      out[i] = Math.abs(v[i]);
    }
    return out;
  }
}
