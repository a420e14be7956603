package dev.pruneserve.pruning.search;

import dev.pruneserve.graph.OnnxGraph;
import dev.pruneserve.onnx.proto.Onnx.ModelProto;
import dev.pruneserve.pruning.Progress;
import dev.pruneserve.pruning.calibration.Calibration;
import dev.pruneserve.pruning.criteria.Criterion;
import dev.pruneserve.pruning.criteria.Flap;
import dev.pruneserve.pruning.criteria.Pruner;
import dev.pruneserve.pruning.criteria.WandaSp;
import dev.pruneserve.pruning.transformer.DecoderStructure;
import dev.pruneserve.pruning.transformer.GatedMlpDiscovery;
import dev.pruneserve.pruning.transformer.HeadDiscovery;
import dev.pruneserve.pruning.transformer.HeadGroup;
import dev.pruneserve.pruning.transformer.MlpGroup;
import dev.pruneserve.pruning.transformer.Surgery;
import dev.pruneserve.pruning.zo.GatedCopy;
import dev.pruneserve.pruning.zo.LossProbe;
import dev.pruneserve.session.SessionLoader;
import dev.pruneserve.tensor.Tensor;
import java.io.IOException;
import java.nio.file.Path;
import java.util.BitSet;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * pruneserve's own forward-only criterion (not a published method): MLP channels of every layer
 * ranked by the FLAP fluctuation metric (WIFV; or sequential Wanda-SP scores) with LLM-Pruner's
 * per-layer counts; then heads chosen layer by layer (0 → L−1; or globally, {@link Budget}) by
 * greedy exact ablation — each step evaluates the calibration loss with every remaining head
 * removed in turn (gated forwards, conditioned on the final channel masks of all layers and the
 * heads already removed) and removes the head whose removal costs least. With compensation
 * (an option), removed channels and heads carry their calibration mean inside every search forward
 * (x·m + (1 − m)·x̄, FLAP's bias b = W[:,P]·x̄[P]) and the pruned model gets the same biases. Either
 * way the pruned model computes what the chosen gated model computed. Forward passes only, on one
 * calibration copy (inference memory). Single-threaded; the input model is not changed.
 */
public final class ForwardSearch {
  /** How MLP channels are ranked: FLAP's fluctuation metric (WIFV) or sequential Wanda-SP scores. */
  public enum Channels {
    FLAP, WANDA_SP
  }

  /**
   * Head budget: LLM-Pruner's count in every layer (layers searched in order), or the same total
   * removed anywhere (each step tries every remaining head of every layer that keeps two or more).
   */
  public enum Budget {
    PER_LAYER, GLOBAL
  }

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

    /** FLAP channels, no compensation, heads per layer, every calibration sequence per forward. */
    public static Options defaults(double ratio) {
      return new Options(ratio, Settings.DEFAULTS.channels(), Settings.DEFAULTS.budget(), false,
          Settings.DEFAULTS.subset(), 8);
    }
  }

  /** The recipe part: channel ranking and sequences per search forward (0 = all); compensation is the recipe's. */
  public record Settings(Channels channels, Budget budget, int subset) {
    public static final Settings DEFAULTS = new Settings(Channels.FLAP, Budget.PER_LAYER, 0);

    public Settings {
      if (subset < 0 || subset > 1024) {
        throw dev.pruneserve.error.ServingException.invalid("forward_search.subset must be in [0, 1024] (0 = all),"
            + " got " + subset);
      }
    }
  }

  /**
   * The pruned model, the units removed per layer, the loss forwards spent, the final search loss
   * and the gate feeds of the chosen gated model ({@link #gatedCopy}).
   */
  public record Outcome(Pruner.Result result, Map<Integer, BitSet> removedHeads, Map<Integer, BitSet> removedChannels,
      int forwards, double searchLoss, Map<String, Tensor> gateFeeds) {}

  private ForwardSearch() {}

  /**
   * The gated copy the search evaluates, outputs as the model's own (logits, present KV): feeding
   * it an {@link Outcome#gateFeeds} gives the function the pruned model computes.
   */
  public static ModelProto gatedCopy(ModelProto dense, boolean compensation) {
    OnnxGraph g = new OnnxGraph(dense);
    return GatedCopy.of(dense, List.of(), new SearchGates(HeadDiscovery.attentionBlocks(g),
        GatedMlpDiscovery.gatedMlps(g), null, compensation).gates());
  }

  /** Progress: calibrating (statistics passes) → scoring (one report per search forward). */
  public static Outcome prune(ModelProto dense, Options o, List<int[]> calibration, SessionLoader loader, Path work,
      Progress progress) throws IOException {
    OnnxGraph g = new OnnxGraph(dense);
    int layers = DecoderStructure.requireDecoderLayers(g);
    List<HeadGroup> blocks = HeadDiscovery.attentionBlocks(g);
    List<MlpGroup> mlps = GatedMlpDiscovery.gatedMlps(g);
    Calibration.Stats stats = Flap.projectionInputStats(dense, calibration, loader, work.resolve("search-stats.onnx"),
        progress);
    Map<Integer, BitSet> channels = channels(dense, g, mlps, o, stats, calibration, loader, work, progress);
    int[] toRemove = new int[layers];
    for (int l = 0; l < layers; l++) {
      HeadGroup b = blocks.get(l);
      toRemove[l] = Math.min(b.units() - 1, Criterion.MAGNITUDE_L2.headsToRemove(o.ratio(), b.units(), b.unitWidth()));
    }
    List<int[]> subset = o.subset() == 0 || o.subset() >= calibration.size() ? calibration
        : calibration.subList(0, o.subset());
    SearchGates gates = new SearchGates(blocks, mlps, stats, o.compensation());
    HeadSearch search = new HeadSearch(blocks, toRemove, o.budget(), progress);
    try (LossProbe probe = LossProbe.open(dense, List.of(), gates.gates(), subset, o.microBatch(), loader,
        work.resolve("search-probe.onnx"))) {
      Map<Integer, BitSet> heads = search.run(h -> probe.meanLoss(gates.feeds(h, channels)));
      Map<String, Tensor> feeds = gates.feeds(heads, channels);
      double loss = probe.meanLoss(feeds);
      ModelProto pruned = prunedModel(g, blocks, mlps, heads, channels, o.compensation() ? stats : null);
      Map<String, Object> details = new LinkedHashMap<>();
      details.put("criterion", "pruneserve forward search (greedy head ablation, " + (o.channels() == Channels.FLAP
          ? "FLAP WIFV" : "sequential Wanda-SP") + " channels" + (o.compensation() ? ", compensation" : "") + ")");
      details.put("loss_forwards", search.forwards());
      details.put("sequences_per_forward", subset.size());
      details.put("search_loss", loss);
      return new Outcome(Pruner.summarise(dense, pruned).withDetails(details), heads, channels, search.forwards(),
          loss, feeds);
    }
  }

  /** Removed MLP channels per layer by the chosen ranking (LLM-Pruner's count per layer). */
  private static Map<Integer, BitSet> channels(ModelProto dense, OnnxGraph g, List<MlpGroup> mlps, Options o,
      Calibration.Stats stats, List<int[]> calibration, SessionLoader loader, Path work, Progress progress)
      throws IOException {
    List<double[]> wanda = o.channels() == Channels.WANDA_SP
        ? WandaSp.prune(dense, o.ratio(), 0, -1, calibration, loader, work, progress).mlpScores() : null;
    Map<Integer, BitSet> removed = new HashMap<>();
    for (int l = 0; l < mlps.size(); l++) {
      double[] score = wanda != null ? wanda.get(l)
          : Flap.metric(Flap.Metric.WIFV, g, mlps.get(l).downWeight(), stats, 2 * l + 1);
      int f = mlps.get(l).width();
      removed.put(l, Pruner.lowest(score, Math.min(f - 1, Criterion.MAGNITUDE_L2.channelsToRemove(o.ratio(), f))));
    }
    return removed;
  }

  /** Surgery on heads and channels, then (with {@code stats}) FLAP's biases for every removed unit. */
  private static ModelProto prunedModel(OnnxGraph g, List<HeadGroup> blocks, List<MlpGroup> mlps,
      Map<Integer, BitSet> heads, Map<Integer, BitSet> channels, Calibration.Stats stats) {
    ModelProto pruned = Surgery.removeHeads(g, blocks, heads);
    OnnxGraph g2 = new OnnxGraph(pruned);
    pruned = Surgery.removeMlpChannels(g2, GatedMlpDiscovery.gatedMlps(g2), channels);
    for (int l = 0; stats != null && l < blocks.size(); l++) {
      pruned = Flap.compensate(pruned, g, blocks.get(l).oWeight(), SearchGates.headChannels(heads.get(l),
          blocks.get(l)), stats.mean(2 * l));
      pruned = Flap.compensate(pruned, g, mlps.get(l).downWeight(), channels.get(l), stats.mean(2 * l + 1));
    }
    return pruned;
  }
}
