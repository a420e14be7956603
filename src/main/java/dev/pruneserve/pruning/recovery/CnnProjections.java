package dev.pruneserve.pruning.recovery;

import dev.pruneserve.graph.OnnxGraph;
import dev.pruneserve.onnx.proto.Onnx.ModelProto;
import dev.pruneserve.onnx.proto.Onnx.NodeProto;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The layers a CNN reconstruction re-fits: every group-1 Conv, Gemm ({@code transA = 0}) or 2-D
 * MatMul whose input channels the pruning narrowed, with the output channels it kept, found from
 * the cut record of the channel surgery (per weight and axis, the dense indices removed). Layers
 * that read narrowed channels but cannot be re-fitted (grouped Convs, transposed Gemm inputs) are
 * listed with the reason. Stateless.
 */
public final class CnnProjections {
  /** Layers to re-fit in graph order, and the skipped ones ({@code weight}, {@code skipped}). */
  public record Found(List<Projection> projections, List<Map<String, Object>> skipped) {}

  private CnnProjections() {}

  public static Found of(ModelProto dense, Map<String, Map<Integer, BitSet>> cuts) {
    OnnxGraph g = new OnnxGraph(dense);
    Map<String, Projection> found = new LinkedHashMap<>();
    List<Map<String, Object>> skipped = new ArrayList<>();
    for (var e : cuts.entrySet()) {
      String w = e.getKey();
      NodeProto n = Projection.reader(g, w).orElse(null);
      var t = g.initializer(w).orElse(null);
      if (n == null || t == null || t.getDimsCount() < 2) {
        continue; // a BN parameter, a bias, a depthwise filter's scale: not a layer reading channels
      }
      int in;
      int out;
      Projection.Kind kind;
      switch (n.getOpType()) {
        case "Conv" -> {
          kind = Projection.Kind.CONV;
          in = 1;
          out = 0;
          if (Projection.intAttr(n, "group", 1) != 1) {
            if (e.getValue().containsKey(in)) {
              skipped.add(Map.of("weight", w, "skipped", "Conv '" + n.getName() + "' is grouped"));
            }
            continue;
          }
        }
        case "Gemm" -> {
          kind = Projection.Kind.GEMM;
          boolean transB = Projection.intAttr(n, "transB", 0) == 1;
          in = transB ? 1 : 0;
          out = transB ? 0 : 1;
          if (Projection.intAttr(n, "transA", 0) != 0) {
            if (e.getValue().containsKey(in)) {
              skipped.add(Map.of("weight", w, "skipped", "Gemm '" + n.getName() + "' has transA = 1"));
            }
            continue;
          }
        }
        default -> {
          kind = Projection.Kind.MATMUL;
          in = 0;
          out = 1;
          if (t.getDimsCount() != 2) {
            continue;
          }
        }
      }
      if (!e.getValue().containsKey(in)) {
        continue; // only its outputs were pruned: its kept filters are the dense ones
      }
      int[] kept = null;
      BitSet removed = e.getValue().get(out);
      if (removed != null && !removed.isEmpty()) {
        int size = (int) t.getDims(out);
        kept = new int[size - removed.cardinality()];
        for (int c = 0, k = 0; c < size; c++) {
          if (!removed.get(c)) {
            kept[k++] = c;
          }
        }
      }
      found.put(w, new Projection(kind, w, kept, false));
    }
    List<Projection> ordered = SequentialReconstruction.inGraphOrder(g, new ArrayList<>(found.keySet())).stream()
        .map(found::get).toList();
    return new Found(ordered, skipped);
  }
}
