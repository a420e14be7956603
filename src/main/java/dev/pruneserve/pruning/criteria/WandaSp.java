package dev.pruneserve.pruning.criteria;

import dev.pruneserve.graph.OnnxGraph;
import dev.pruneserve.onnx.proto.Onnx.ModelProto;
import dev.pruneserve.onnx.proto.Onnx.TensorProto;
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
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.Map;

/**
 * Wanda-SP as in the FLAP repository (algorithms.md §6), sequential: for each layer l in turn,
 * calibration statistics Σ x_j² at the inputs of o_proj and down_proj are taken (in-graph taps) on
 * the model whose layers 0..l−1 are already pruned; channel score {@code s_j = mean_i |W_ij| ·
 * sqrt(Σ x_j² / n_seq)}, head score = sum over its channels; {@code int(p·H)} heads and {@code
 * int(p·F)} channels with the lowest scores go. No bias compensation. Each calibration sequence
 * runs as its own batch (no padding), so statistics cover exactly the valid tokens.
 */
public final class WandaSp {
  /** Result plus the scores each layer was pruned with (for checks against references). */
  public record Outcome(Pruner.Result result, List<double[]> headScores, List<double[]> mlpScores) {}

  private WandaSp() {}

  /** Prunes layers [firstLayer, endLayer) (endLayer −1 = all); the others stay dense. */
  public static Outcome prune(ModelProto dense, double p, int firstLayer, int endLayer, List<int[]> calibration,
      SessionLoader loader, Path work) throws IOException {
    return prune(dense, p, firstLayer, endLayer, calibration, loader, work, Progress.NONE);
  }

  /** As above; reports "calibrating" across all layers' passes. */
  public static Outcome prune(ModelProto dense, double p, int firstLayer, int endLayer, List<int[]> calibration,
      SessionLoader loader, Path work, Progress progress) throws IOException {
    return prune(dense, p, firstLayer, endLayer, GroupKinds.ALL, calibration, loader, work, progress);
  }

  /** As above for the given kinds of groups; the scores of a kind not pruned are not taken (empty lists). */
  public static Outcome prune(ModelProto dense, double p, int firstLayer, int endLayer, GroupKinds kinds,
      List<int[]> calibration, SessionLoader loader, Path work, Progress progress) throws IOException {
    ModelProto model = dense;
    List<double[]> headScores = new ArrayList<>();
    List<double[]> mlpScores = new ArrayList<>();
    int layers = DecoderStructure.requireLayers(new OnnxGraph(dense), kinds);
    int end = endLayer < 0 ? layers : Math.min(endLayer, layers);
    for (int l = firstLayer; l < end; l++) {
      OnnxGraph g = new OnnxGraph(model);
      HeadGroup block = kinds.heads() ? HeadDiscovery.attentionBlocks(g).get(l) : null;
      ChannelModules.Module mlp = kinds.channels() ? ChannelModules.of(g).get(l) : null;
      List<String> taps = new ArrayList<>();
      if (block != null) {
        taps.add(DecoderStructure.inputOf(g, block.oWeight()));
      }
      if (mlp != null) {
        taps.add(DecoderStructure.inputOf(g, mlp.readWeight()));
      }
      int layer = l - firstLayer;
      int count = end - firstLayer;
      double[][] sumsq = Calibration.run(model, taps, calibration, loader, work.resolve("wanda-l" + l + ".onnx"),
          (k, n) -> progress.report("calibrating", (layer + (double) k / n) / count)).sumSquares();
      if (block != null) {
        double[] oChannels = scores(GatedMlpDiscovery.require(g, block.oWeight()), sumsq[0], calibration.size());
        double[] heads = new double[block.units()];
        for (int c = 0; c < oChannels.length; c++) {
          heads[c / block.unitWidth()] += oChannels[c];
        }
        headScores.add(heads);
        BitSet dropHeads = Pruner.lowest(heads, Math.min(block.units() - 1, (int) (p * block.units())));
        model = Surgery.removeHeads(g, List.of(block), Map.of(block.index(), dropHeads));
      }
      if (mlp != null) {
        double[] channels = scores(GatedMlpDiscovery.require(g, mlp.readWeight()), sumsq[taps.size() - 1],
            calibration.size());
        mlpScores.add(channels);
        BitSet dropChannels = Pruner.lowest(channels, Math.min(mlp.width() - 1, (int) (p * mlp.width())));
        model = ChannelModules.remove(model, Map.of(l, dropChannels));
      }
    }
    return new Outcome(Pruner.summarise(dense, model), headScores, mlpScores);
  }

  /** s_j = mean over outputs of |W[j, :]| (MatMul layout [in, out]) × sqrt(sumsq_j / nSeq). */
  private static double[] scores(TensorProto w, double[] sumsq, int nSeq) {
    int rows = (int) w.getDims(0);
    int cols = (int) w.getDims(1);
    FloatBuffer f = dev.pruneserve.graph.FloatTensors.values(w);
    double[] s = new double[rows];
    for (int j = 0; j < rows; j++) {
      double a = 0;
      for (int i = 0; i < cols; i++) {
        a += Math.abs(f.get(j * cols + i));
      }
      s[j] = a / cols * Math.sqrt(sumsq[j] / nSeq);
    }
    return s;
  }
}
