package dev.pruneserve.pruning.search;

import dev.pruneserve.graph.OnnxGraph;
import dev.pruneserve.model.SessionLoader;
import dev.pruneserve.onnx.proto.Onnx.ModelProto;
import dev.pruneserve.pruning.Calibration;
import dev.pruneserve.pruning.Criterion;
import dev.pruneserve.pruning.DependencyDiscovery;
import dev.pruneserve.pruning.Flap;
import dev.pruneserve.pruning.HeadDiscovery;
import dev.pruneserve.pruning.HeadGroup;
import dev.pruneserve.pruning.MlpGroup;
import dev.pruneserve.pruning.Progress;
import dev.pruneserve.pruning.Pruner;
import dev.pruneserve.pruning.Surgery;
import dev.pruneserve.pruning.WandaSp;
import dev.pruneserve.pruning.zo.LossProbe;
import dev.pruneserve.tensor.Tensor;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * pruneserve's own forward-only criterion (not a published method): MLP channels of every layer
 * ranked by the FLAP fluctuation metric (WIFV; or sequential Wanda-SP scores) with LLM-Pruner's
 * per-layer counts; heads chosen
 * layer by layer (0 → L−1; or globally, {@link Budget}) by greedy exact ablation — each step evaluates the calibration loss
 * with every remaining head removed in turn (gated forwards, conditioned on the final channel
 * masks of all layers and the heads already removed) and removes the head whose removal costs
 * least. With compensation, removed channels and heads carry their calibration mean inside every
 * search forward (x·m + (1 − m)·x̄, FLAP's bias b = W[:,P]·x̄[P]) and the pruned model gets the
 * same biases, so it computes what the chosen gated model computed. Forward passes only, on one
 * calibration copy (inference memory). Single-threaded; the input model is not changed.
 */
public final class ForwardSearch {
  /** How MLP channels are ranked: FLAP's fluctuation metric (WIFV) or sequential Wanda-SP scores. */
  public enum Channels { FLAP, WANDA_SP }

  /**
   * Head budget: LLM-Pruner's count in every layer (layers searched in order), or the same total
   * removed anywhere (each step tries every remaining head of every layer that keeps two or more).
   */
  public enum Budget { PER_LAYER, GLOBAL }

  /**
   * @param compensation FLAP's bias compensation inside every search forward and in the result
   * @param subset calibration sequences per search forward (0 = all; the statistics pass always
   *     uses all)
   */
  public record Options(double ratio, Channels channels, Budget budget, boolean compensation, int subset,
      int microBatch) {
    public Options {
      if (!(ratio > 0 && ratio < 1) || subset < 0 || microBatch < 1) {
        throw new IllegalArgumentException("forward search: ratio in (0, 1), subset >= 0, micro-batch >= 1");
      }
    }

    /** FLAP channels with compensation, 8 sequences per search forward. */
    public static Options defaults(double ratio) {
      return new Options(ratio, Channels.FLAP, Budget.PER_LAYER, true, 8, 8);
    }
  }

  /** The recipe part: channel ranking and sequences per search forward (0 = all); compensation is the recipe's. */
  public record Settings(Channels channels, Budget budget, int subset) {
    public static final Settings DEFAULTS = new Settings(Channels.FLAP, Budget.PER_LAYER, 8);

    public Settings {
      if (subset < 0 || subset > 1024) {
        throw new IllegalArgumentException("forward_search.subset must be in [0, 1024] (0 = all), got " + subset);
      }
    }

    public Map<String, Object> describe(boolean compensation) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("channels", channels.name().toLowerCase(java.util.Locale.ROOT).replace('_', '-'));
      m.put("budget", budget.name().toLowerCase(java.util.Locale.ROOT).replace('_', '-'));
      m.put("compensation", compensation);
      m.put("sequences_per_forward", subset == 0 ? "all" : subset);
      return m;
    }
  }

  /** The pruned model, the units removed per layer, the loss forwards used and the final search loss. */
  public record Outcome(Pruner.Result result, Map<Integer, BitSet> removedHeads, Map<Integer, BitSet> removedChannels,
      int forwards, double searchLoss) {}

  private ForwardSearch() {}

  /** Progress: calibrating (statistics pass) → scoring (one report per search forward). */
  public static Outcome prune(ModelProto dense, Options o, List<int[]> calibration, SessionLoader loader, Path work,
      Progress progress) throws IOException {
    OnnxGraph g = new OnnxGraph(dense);
    int layers = Flap.requireDecoderLayers(g);
    List<HeadGroup> blocks = HeadDiscovery.attentionBlocks(g);
    List<MlpGroup> mlps = DependencyDiscovery.gatedMlps(g);
    Calibration.Stats stats = Flap.projectionInputStats(dense, calibration, loader, work.resolve("search-stats.onnx"),
        progress);
    Map<Integer, BitSet> channels = new HashMap<>();
    Map<Integer, BitSet> heads = new HashMap<>();
    int[] toRemove = new int[layers];
    int total = 0;
    List<double[]> wanda = o.channels() == Channels.WANDA_SP
        ? WandaSp.prune(dense, o.ratio(), 0, -1, calibration, loader, work, progress).mlpScores() : null;
    for (int l = 0; l < layers; l++) {
      double[] score = wanda != null ? wanda.get(l)
          : Flap.metric(Flap.Metric.WIFV, g, mlps.get(l).downWeight(), stats, 2 * l + 1);
      int f = mlps.get(l).width();
      channels.put(l, Pruner.lowest(score, Math.min(f - 1, Criterion.MAGNITUDE_L2.channelsToRemove(o.ratio(), f))));
      HeadGroup b = blocks.get(l);
      toRemove[l] = Math.min(b.heads() - 1, Criterion.MAGNITUDE_L2.headsToRemove(o.ratio(), b.heads(), b.headDim()));
      heads.put(l, new BitSet());
      for (int k = 0; k < toRemove[l]; k++) {
        total += b.heads() - k;
      }
    }
    if (o.budget() == Budget.GLOBAL) { // an upper estimate: every remaining head of every layer per step
      int all = blocks.stream().mapToInt(HeadGroup::heads).sum();
      int steps = java.util.Arrays.stream(toRemove).sum();
      total = 0;
      for (int k = 0; k < steps; k++) {
        total += all - k;
      }
    }
    List<int[]> subset = o.subset() == 0 || o.subset() >= calibration.size() ? calibration
        : calibration.subList(0, o.subset());
    List<LossProbe.Gate> gates = new ArrayList<>();
    for (int l = 0; l < layers; l++) {
      HeadGroup b = blocks.get(l);
      gates.add(new LossProbe.Gate(gate("heads", l), b.oWeight(), b.heads() * b.headDim(),
          o.compensation() ? gate("heads.fill", l) : null));
      gates.add(new LossProbe.Gate(gate("channels", l), mlps.get(l).downWeight(), mlps.get(l).width(),
          o.compensation() ? gate("channels.fill", l) : null));
    }
    int forwards = 0;
    double loss;
    try (LossProbe probe = LossProbe.open(dense, List.of(), gates, subset, o.microBatch(), loader,
        work.resolve("search-probe.onnx"))) {
      int steps = java.util.Arrays.stream(toRemove).sum();
      for (int step = 0, layer = 0; step < steps; step++) {
        // per layer: layers in order, each until its count is reached; global: any layer keeping >= 2 heads
        while (o.budget() == Budget.PER_LAYER && heads.get(layer).cardinality() == toRemove[layer]) {
          layer++;
        }
        List<int[]> candidates = new ArrayList<>();
        for (int l = 0; l < layers; l++) {
          boolean open = o.budget() == Budget.GLOBAL ? blocks.get(l).heads() - heads.get(l).cardinality() > 1
              : l == layer;
          for (int h = 0; open && h < blocks.get(l).heads(); h++) {
            if (!heads.get(l).get(h)) {
              candidates.add(new int[] {l, h});
            }
          }
        }
        int[] best = null;
        double bestLoss = Double.POSITIVE_INFINITY;
        for (int[] c : candidates) {
          heads.get(c[0]).set(c[1]);
          double v = probe.meanLoss(feeds(blocks, mlps, heads, channels, stats, o.compensation()));
          heads.get(c[0]).clear(c[1]);
          forwards++;
          progress.report("scoring", Math.min(1, (double) forwards / total));
          if (v < bestLoss) {
            bestLoss = v;
            best = c;
          }
        }
        heads.get(best[0]).set(best[1]);
      }
      loss = probe.meanLoss(feeds(blocks, mlps, heads, channels, stats, o.compensation()));
    }
    ModelProto pruned = Surgery.removeHeads(g, blocks, heads);
    OnnxGraph g2 = new OnnxGraph(pruned);
    pruned = Surgery.removeMlpChannels(g2, DependencyDiscovery.gatedMlps(g2), channels);
    if (o.compensation()) {
      for (int l = 0; l < layers; l++) {
        pruned = Flap.compensate(pruned, g, blocks.get(l).oWeight(), headChannels(heads.get(l), blocks.get(l)),
            stats.mean(2 * l));
        pruned = Flap.compensate(pruned, g, mlps.get(l).downWeight(), channels.get(l), stats.mean(2 * l + 1));
      }
    }
    Map<String, Object> details = new LinkedHashMap<>();
    details.put("criterion", "pruneserve forward search (greedy head ablation, " + (o.channels() == Channels.FLAP
        ? "FLAP WIFV" : "sequential Wanda-SP") + " channels" + (o.compensation() ? ", compensation" : "") + ")");
    details.put("loss_forwards", forwards);
    details.put("sequences_per_forward", subset.size());
    details.put("search_loss", loss);
    return new Outcome(Pruner.summarise(dense, pruned).withDetails(details), heads, channels, forwards, loss);
  }

  private static String gate(String kind, int layer) {
    return "search." + kind + "." + layer;
  }

  private static BitSet headChannels(BitSet heads, HeadGroup b) {
    BitSet c = new BitSet();
    heads.stream().forEach(h -> c.set(h * b.headDim(), (h + 1) * b.headDim()));
    return c;
  }

  /** Gate feeds: 0 for removed units, 1 otherwise; with compensation fill = (1 − m)·x̄. */
  private static Map<String, Tensor> feeds(List<HeadGroup> blocks, List<MlpGroup> mlps, Map<Integer, BitSet> heads,
      Map<Integer, BitSet> channels, Calibration.Stats stats, boolean compensation) {
    Map<String, Tensor> in = new LinkedHashMap<>();
    for (int l = 0; l < blocks.size(); l++) {
      put(in, "heads", l, headChannels(heads.get(l), blocks.get(l)), blocks.get(l).heads() * blocks.get(l).headDim(),
          stats.mean(2 * l), compensation);
      put(in, "channels", l, channels.get(l), mlps.get(l).width(), stats.mean(2 * l + 1), compensation);
    }
    return in;
  }

  private static void put(Map<String, Tensor> in, String kind, int l, BitSet removed, int width, double[] mean,
      boolean compensation) {
    float[] m = new float[width];
    float[] fill = new float[width];
    for (int i = 0; i < width; i++) {
      boolean gone = removed.get(i);
      m[i] = gone ? 0f : 1f;
      fill[i] = gone ? (float) mean[i] : 0f;
    }
    in.put(gate(kind, l), Tensor.fp32(gate(kind, l), new long[] {width}, m));
    if (compensation) {
      in.put(gate(kind + ".fill", l), Tensor.fp32(gate(kind + ".fill", l), new long[] {width}, fill));
    }
  }
}
