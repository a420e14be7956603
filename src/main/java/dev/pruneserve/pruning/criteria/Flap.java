package dev.pruneserve.pruning.criteria;

import dev.pruneserve.graph.OnnxGraph;
import dev.pruneserve.onnx.proto.Onnx.ModelProto;
import dev.pruneserve.pruning.Progress;
import dev.pruneserve.pruning.calibration.Calibration;
import dev.pruneserve.pruning.transformer.ChannelModules;
import dev.pruneserve.pruning.transformer.DecoderStructure;
import dev.pruneserve.pruning.transformer.GatedMlpDiscovery;
import dev.pruneserve.pruning.transformer.GroupKinds;
import dev.pruneserve.pruning.transformer.HeadDiscovery;
import dev.pruneserve.pruning.transformer.HeadGroup;
import dev.pruneserve.pruning.transformer.Surgery;
import dev.pruneserve.session.SessionLoader;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * FLAP (algorithms.md §5): fluctuation scores on the input channels of o_proj and down_proj from
 * one calibration pass over the dense model, an adaptive global structure and bias compensation.
 * Defaults as in the FLAP repository: metric WIFV, structure AL-AM, compensation on, all layers.
 * Deviations (documented in docs/pruning.md): statistics are exact token statistics (FLAP's running
 * update is not reproduced); a layer always keeps its best head and best channel (FLAP may empty a
 * module; our decoders cannot drop a whole attention block yet).
 */
public final class Flap {
  /** WIFV_j = Var_j·‖W_:,j‖²; IFV_j = Var_j; WIFN_j = mean_i|W_ij|·sqrt(mean_n x_j²). */
  public enum Metric {
    WIFV, IFV, WIFN
  }

  /** AL_AM: one global threshold on standardised scores; UL_UM: int(p·H) heads, int(p·F) channels per layer. */
  public enum Structure {
    AL_AM, UL_UM
  }

  /** Layer range [firstLayer, endLayer), endLayer −1 = all; only those layers' units are eligible. */
  public record Options(double ratio, Metric metric, Structure structure, boolean biasCompensation,
      int firstLayer, int endLayer, GroupKinds groups) {
    public Options {
      if (!(ratio > 0 && ratio < 1)) {
        throw new IllegalArgumentException("ratio must be in (0, 1), got " + ratio);
      }
    }

    /** Heads and channels alike. */
    public Options(double ratio, Metric metric, Structure structure, boolean biasCompensation, int firstLayer,
        int endLayer) {
      this(ratio, metric, structure, biasCompensation, firstLayer, endLayer, GroupKinds.ALL);
    }

    public static Options defaults(double ratio) {
      return new Options(ratio, Metric.WIFV, Structure.AL_AM, true, 0, -1);
    }
  }

  /**
   * The pruned model and what decided it: per-layer head and channel scores (standardised for
   * AL_AM), the global threshold (NaN for UL_UM) and the removed units per layer.
   */
  public record Outcome(Pruner.Result result, List<double[]> headScores, List<double[]> mlpScores,
      double threshold, Map<Integer, BitSet> removedHeads, Map<Integer, BitSet> removedChannels) {}

  private Flap() {}

  public static Outcome prune(ModelProto dense, Options o, List<int[]> calibration, SessionLoader loader, Path work)
      throws IOException {
    return prune(dense, o, calibration, loader, work, Progress.NONE);
  }

  /** As above; reports "calibrating" per sequence, then "scoring". */
  public static Outcome prune(ModelProto dense, Options o, List<int[]> calibration, SessionLoader loader, Path work,
      Progress progress) throws IOException {
    OnnxGraph g = new OnnxGraph(dense);
    GroupKinds kinds = o.groups();
    int layers = DecoderStructure.requireLayers(g, kinds);
    List<HeadGroup> blocks = kinds.heads() ? HeadDiscovery.attentionBlocks(g) : List.of();
    List<ChannelModules.Module> mlps = kinds.channels() ? ChannelModules.of(g) : List.of();
    int end = o.endLayer() < 0 ? layers : Math.min(o.endLayer(), layers);
    Calibration.Stats stats = Calibration.run(dense, taps(g, blocks, mlps), calibration, loader,
        work.resolve("flap-calib.onnx"), (k, n) -> progress.report("calibrating", (double) k / n));
    progress.report("scoring", 0);
    List<double[]> heads = new ArrayList<>();
    List<double[]> channels = new ArrayList<>();
    int mlpBase = blocks.isEmpty() ? 0 : 1; // taps(): o_proj input at 2l, down_proj input at 2l + 1 when both
    int stride = blocks.isEmpty() || mlps.isEmpty() ? 1 : 2;
    for (int l = 0; l < layers; l++) {
      double[] attn = new double[0];
      if (!blocks.isEmpty()) {
        HeadGroup b = blocks.get(l);
        attn = metric(o.metric(), g, b.oWeight(), stats, stride * l);
        for (int j = 0; j < attn.length; j++) {
          attn[j] *= attn[j];
        }
        attn = perHead(o.structure() == Structure.AL_AM ? standardise(attn) : attn, b.units(), b.unitWidth(),
            o.structure() == Structure.AL_AM);
      }
      double[] mlp = mlps.isEmpty() ? new double[0]
          : metric(o.metric(), g, mlps.get(l).readWeight(), stats, stride * l + mlpBase);
      heads.add(attn);
      channels.add(o.structure() == Structure.AL_AM && mlp.length > 0 ? standardise(mlp) : mlp);
    }
    Map<Integer, BitSet> dropHeads = new HashMap<>();
    Map<Integer, BitSet> dropChannels = new HashMap<>();
    double threshold = Double.NaN;
    if (o.structure() == Structure.AL_AM) {
      threshold = FlapThreshold.find(heads, channels, o.firstLayer(), end,
          blocks.isEmpty() ? 0 : headWeight(blocks.get(0).headDim(), blocks.get(0).groupSize()), o.ratio());
      for (int l = o.firstLayer(); l < end; l++) {
        dropHeads.put(l, keepBest(below(heads.get(l), threshold), heads.get(l)));
        dropChannels.put(l, keepBest(below(channels.get(l), threshold), channels.get(l)));
      }
    } else {
      for (int l = o.firstLayer(); l < end; l++) {
        int h = heads.get(l).length;
        int f = channels.get(l).length;
        dropHeads.put(l, Pruner.lowest(heads.get(l), Math.max(0, Math.min(h - 1, (int) (o.ratio() * h)))));
        dropChannels.put(l, Pruner.lowest(channels.get(l), Math.max(0, Math.min(f - 1, (int) (o.ratio() * f)))));
      }
    }
    ModelProto pruned = blocks.isEmpty() ? dense : Surgery.removeHeads(g, blocks, dropHeads);
    if (!mlps.isEmpty()) {
      pruned = ChannelModules.remove(pruned, dropChannels);
    }
    if (o.biasCompensation()) {
      for (int l = o.firstLayer(); l < end; l++) {
        if (!blocks.isEmpty()) {
          BitSet hc = new BitSet();
          int hd = blocks.get(l).unitWidth();
          dropHeads.get(l).stream().forEach(h -> hc.set(h * hd, (h + 1) * hd));
          pruned = compensate(pruned, g, blocks.get(l).oWeight(), hc, stats.mean(stride * l));
        }
        if (!mlps.isEmpty()) {
          pruned = compensate(pruned, g, mlps.get(l).readWeight(), dropChannels.get(l),
              stats.mean(stride * l + mlpBase));
        }
      }
    }
    return new Outcome(Pruner.summarise(dense, pruned), heads, channels, threshold, dropHeads, dropChannels);
  }

  /**
   * Statistics of the inputs of every layer's o_proj (entry 2l) and down_proj (entry 2l + 1) over
   * the calibration set, reporting "calibrating" per sequence.
   */
  public static Calibration.Stats projectionInputStats(ModelProto dense, List<int[]> calibration,
      SessionLoader loader, Path file, Progress progress) throws IOException {
    OnnxGraph g = new OnnxGraph(dense);
    DecoderStructure.requireDecoderLayers(g);
    return Calibration.run(dense, taps(g, HeadDiscovery.attentionBlocks(g), ChannelModules.of(g)),
        calibration, loader, file, (k, n) -> progress.report("calibrating", (double) k / n));
  }

  /** Per layer, the input of o_proj (when {@code blocks} has one) then of down_proj (when {@code mlps} has one). */
  private static List<String> taps(OnnxGraph g, List<HeadGroup> blocks, List<ChannelModules.Module> mlps) {
    List<String> values = new ArrayList<>();
    for (int l = 0; l < Math.max(blocks.size(), mlps.size()); l++) {
      if (!blocks.isEmpty()) {
        values.add(DecoderStructure.inputOf(g, blocks.get(l).oWeight()));
      }
      if (!mlps.isEmpty()) {
        values.add(DecoderStructure.inputOf(g, mlps.get(l).readWeight()));
      }
    }
    return values;
  }

  /**
   * Channels a unit weighs in the global sort: its q/k/v/o parameters over an MLP channel's
   * (gate, up, down): int(2·hd·(g+1)/3) for g query heads per K/V head, int(4·hd/3) without GQA.
   */
  static int headWeight(int headDim, int groupSize) {
    return 2 * headDim * (groupSize + 1) / 3;
  }

  /** The per-input-channel metric of the MatMul reading {@code weight}, from statistics entry {@code k}. */
  public static double[] metric(Metric m, OnnxGraph g, String weight, Calibration.Stats s, int k) {
    double[] var = s.variance(k);
    double[] out = new double[var.length];
    switch (m) {
      case IFV -> System.arraycopy(var, 0, out, 0, var.length);
      case WIFV -> {
        double[] norm2 = Criterion.rowPower(g, weight, 2, false);
        for (int j = 0; j < out.length; j++) {
          out[j] = var[j] * norm2[j];
        }
      }
      case WIFN -> {
        double[] abs = Criterion.rowPower(g, weight, 1, false);
        int cols = (int) GatedMlpDiscovery.require(g, weight).getDims(1);
        for (int j = 0; j < out.length; j++) {
          out[j] = abs[j] / cols * Math.sqrt(s.sumSquares()[k][j] / s.tokens());
        }
      }
      default -> throw new AssertionError(m);
    }
    return out;
  }

  /** (x − mean) / std with the unbiased standard deviation. */
  static double[] standardise(double[] x) {
    double mean = 0;
    for (double v : x) {
      mean += v / x.length;
    }
    double ss = 0;
    for (double v : x) {
      ss += (v - mean) * (v - mean);
    }
    double std = Math.sqrt(ss / (x.length - 1));
    double[] z = new double[x.length];
    if (!(std > 0)) {
      return z; // no spread: every unit scores the same
    }
    for (int i = 0; i < x.length; i++) {
      z[i] = (x[i] - mean) / std;
    }
    return z;
  }

  private static double[] perHead(double[] channel, int heads, int hd, boolean mean) {
    double[] s = new double[heads];
    for (int c = 0; c < channel.length; c++) {
      s[c / hd] += mean ? channel[c] / hd : channel[c];
    }
    return s;
  }

  private static BitSet below(double[] scores, double threshold) {
    BitSet drop = new BitSet();
    for (int i = 0; i < scores.length; i++) {
      if (!(scores[i] > threshold)) {
        drop.set(i);
      }
    }
    return drop;
  }

  /** Never empties a module: if every unit is dropped, the best-scored one stays. */
  private static BitSet keepBest(BitSet drop, double[] scores) {
    if (drop.cardinality() == scores.length) {
      int best = 0;
      for (int i = 1; i < scores.length; i++) {
        best = scores[i] > scores[best] ? i : best;
      }
      drop.clear(best);
    }
    return drop;
  }

  /** Adds b = W[P, :]ᵀ·x̄[P] (MatMul layout [in, out]) after the MatMul reading {@code weight}. */
  public static ModelProto compensate(ModelProto m, OnnxGraph dense, String weight, BitSet removed, double[] mean) {
    if (removed.isEmpty()) {
      return m;
    }
    var t = GatedMlpDiscovery.require(dense, weight);
    int cols = (int) t.getDims(1);
    var w = dev.pruneserve.graph.FloatTensors.values(t);
    double[] b = new double[cols];
    removed.stream().forEach(j -> {
      for (int i = 0; i < cols; i++) {
        b[i] += w.get(j * cols + i) * mean[j];
      }
    });
    float[] f = new float[cols];
    for (int i = 0; i < cols; i++) {
      f[i] = (float) b[i];
    }
    return Surgery.addBias(m, weight, f);
  }
}
