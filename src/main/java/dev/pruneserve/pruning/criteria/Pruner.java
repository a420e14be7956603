package dev.pruneserve.pruning.criteria;

import dev.pruneserve.graph.OnnxGraph;
import dev.pruneserve.onnx.proto.Onnx.ModelProto;
import dev.pruneserve.onnx.proto.Onnx.TensorProto;
import dev.pruneserve.pruning.transformer.FfnDiscovery;
import dev.pruneserve.pruning.transformer.FfnGroup;
import dev.pruneserve.pruning.transformer.GatedMlpDiscovery;
import dev.pruneserve.pruning.transformer.GroupKinds;
import dev.pruneserve.pruning.transformer.HeadDiscovery;
import dev.pruneserve.pruning.transformer.HeadGroup;
import dev.pruneserve.pruning.transformer.MlpGroup;
import dev.pruneserve.pruning.transformer.Surgery;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Structured pruning of a decoder (gated MLPs) or an encoder (plain FFNs) with a weight-only {@link Criterion} and a local ratio: in every
 * layer of [firstLayer, endLayer) it removes the lowest-scored heads and MLP channels, as many as the
 * criterion's reference implementation does (algorithms.md §1.3: LLM-Pruner arithmetic for random
 * and L1/L2, {@code int(p·H)} / {@code int(p·F)} for Mag-SP), never all of a layer's groups.
 * Deterministic for a given model, options and seed.
 */
public final class Pruner {
  /** Options of one pruning run; layer range is [firstLayer, endLayer), endLayer −1 = all. */
  public record Options(Criterion criterion, double ratio, long seed, int firstLayer, int endLayer,
      GroupKinds groups) {
    public Options {
      if (!(ratio > 0 && ratio < 1)) {
        throw new IllegalArgumentException("ratio must be in (0, 1), got " + ratio);
      }
    }

    /** Heads and channels alike. */
    public Options(Criterion criterion, double ratio, long seed, int firstLayer, int endLayer) {
      this(criterion, ratio, seed, firstLayer, endLayer, GroupKinds.ALL);
    }
  }

  /**
   * The pruned model and what was removed: heads and channels per layer, parameters before/after,
   * and method-specific details for reports (JSON-serialisable; empty for most methods).
   */
  public record Result(ModelProto model, List<Integer> headsPerLayer, List<Integer> channelsPerLayer,
      long parametersBefore, long parametersAfter, Map<String, Object> details) {
    public Result(ModelProto model, List<Integer> headsPerLayer, List<Integer> channelsPerLayer,
        long parametersBefore, long parametersAfter) {
      this(model, headsPerLayer, channelsPerLayer, parametersBefore, parametersAfter, Map.of());
    }

    public Result withDetails(Map<String, Object> d) {
      return new Result(model, headsPerLayer, channelsPerLayer, parametersBefore, parametersAfter, d);
    }
  }

  private Pruner() {}

  public static Result prune(ModelProto dense, Options o) {
    OnnxGraph g = new OnnxGraph(dense);
    List<MlpGroup> mlps = GatedMlpDiscovery.gatedMlps(g);
    List<FfnGroup> ffns = mlps.isEmpty() ? FfnDiscovery.plainFfns(g) : List.of();
    List<HeadGroup> blocks = o.groups().heads() ? HeadDiscovery.attentionBlocks(g) : List.of();
    if (!o.groups().channels()) {
      mlps = List.of();
      ffns = List.of();
    }
    if (mlps.isEmpty() && ffns.isEmpty() && blocks.isEmpty()) {
      throw new IllegalArgumentException(o.groups() == GroupKinds.ALL
          ? "no prunable attention block or MLP found in the graph"
          : "groups: " + o.groups().name().toLowerCase(java.util.Locale.ROOT) + " found no such group in the graph");
    }
    int end = o.endLayer() < 0 ? Math.max(Math.max(mlps.size(), ffns.size()), blocks.size()) : o.endLayer();
    Map<Integer, BitSet> dropHeads = new HashMap<>();
    for (HeadGroup b : blocks) {
      if (b.index() >= o.firstLayer() && b.index() < end) {
        int n = Math.min(b.units() - 1, o.criterion().headsToRemove(o.ratio(), b.units(), b.unitWidth()));
        dropHeads.put(b.index(), lowest(o.criterion().heads(g, b, o.seed()), n));
      }
    }
    Map<Integer, BitSet> dropChannels = new HashMap<>();
    for (MlpGroup m : mlps) {
      if (m.index() >= o.firstLayer() && m.index() < end) {
        int n = Math.min(m.width() - 1, o.criterion().channelsToRemove(o.ratio(), m.width()));
        dropChannels.put(m.index(), lowest(o.criterion().mlp(g, m, o.seed()), n));
      }
    }
    for (FfnGroup f : ffns) {
      if (f.index() >= o.firstLayer() && f.index() < end) {
        int n = Math.min(f.width() - 1, o.criterion().channelsToRemove(o.ratio(), f.width()));
        dropChannels.put(f.index(), lowest(o.criterion().ffn(g, f, o.seed()), n));
      }
    }
    ModelProto pruned = blocks.isEmpty() ? dense : Surgery.removeHeads(g, blocks, dropHeads);
    OnnxGraph g2 = new OnnxGraph(pruned);
    pruned = dropChannels.isEmpty() ? pruned
        : ffns.isEmpty() ? Surgery.removeMlpChannels(g2, GatedMlpDiscovery.gatedMlps(g2), dropChannels)
        : Surgery.removeFfnChannels(g2, FfnDiscovery.plainFfns(g2), dropChannels);
    return summarise(dense, pruned);
  }

  /** The result record of any method: widths per layer found again on the pruned graph. */
  public static Result summarise(ModelProto dense, ModelProto pruned) {
    OnnxGraph g = new OnnxGraph(pruned);
    List<Integer> heads = new ArrayList<>();
    HeadDiscovery.attentionBlocks(g).forEach(b -> heads.add(b.queryHeads()));
    List<Integer> channels = new ArrayList<>();
    GatedMlpDiscovery.gatedMlps(g).forEach(m -> channels.add(m.width()));
    FfnDiscovery.plainFfns(g).forEach(f -> channels.add(f.width()));
    return new Result(pruned, heads, channels, parameters(dense), parameters(pruned));
  }

  /** Indices of the {@code n} smallest scores (ties: lower index first). */
  public static BitSet lowest(double[] scores, int n) {
    Integer[] idx = new Integer[scores.length];
    for (int i = 0; i < idx.length; i++) {
      idx[i] = i;
    }
    java.util.Arrays.sort(idx, (a, b) -> scores[a] != scores[b] ? Double.compare(scores[a], scores[b]) : a - b);
    BitSet out = new BitSet();
    for (int i = 0; i < n; i++) {
      out.set(idx[i]);
    }
    return out;
  }

  /** Elements of all floating-point initializers. */
  /**
   * Float parameters stored as initializers; a 2-D FP32 initializer that is exactly the transpose
   * of another (a tied embedding an exporter also wrote as a transposed lm_head copy) counts once.
   */
  public static long parameters(ModelProto m) {
    long n = 0;
    java.util.Map<String, TensorProto> matrices = new java.util.HashMap<>();
    for (TensorProto t : m.getGraph().getInitializerList()) {
      if (t.getDataType() == 1 || t.getDataType() == 10 || t.getDataType() == 16) {
        long e = 1;
        for (long d : t.getDimsList()) {
          e *= d;
        }
        boolean copy = false;
        if (t.getDataType() == 1 && t.getDimsCount() == 2 && t.hasRawData()) {
          TensorProto twin = matrices.get(t.getDims(1) + "x" + t.getDims(0));
          copy = twin != null && transposed(twin, t);
          matrices.putIfAbsent(t.getDims(0) + "x" + t.getDims(1), t);
        }
        n += copy ? 0 : e;
      }
    }
    return n;
  }

  /** Whether b [C, R] holds exactly the transpose of a [R, C] (FP32 raw data). */
  private static boolean transposed(TensorProto a, TensorProto b) {
    int rows = (int) a.getDims(0);
    int cols = (int) a.getDims(1);
    if ((long) rows * cols > Integer.MAX_VALUE / 4 || a.getRawData().size() != b.getRawData().size()) {
      return false;
    }
    java.nio.FloatBuffer x = a.getRawData().asReadOnlyByteBuffer().order(java.nio.ByteOrder.LITTLE_ENDIAN)
        .asFloatBuffer();
    java.nio.FloatBuffer y = b.getRawData().asReadOnlyByteBuffer().order(java.nio.ByteOrder.LITTLE_ENDIAN)
        .asFloatBuffer();
    for (int r = 0; r < rows; r++) {
      for (int c = 0; c < cols; c++) {
        if (Float.floatToRawIntBits(x.get(r * cols + c)) != Float.floatToRawIntBits(y.get(c * rows + r))) {
          return false;
        }
      }
    }
    return true;
  }
}
