package dev.pruneserve.pruning.ifso;

import dev.pruneserve.graph.OnnxGraph;
import dev.pruneserve.graph.ShapeInference;
import dev.pruneserve.onnx.proto.Onnx.ModelProto;
import dev.pruneserve.onnx.proto.Onnx.NodeProto;
import dev.pruneserve.onnx.proto.Onnx.TensorProto;
import dev.pruneserve.pruning.cnn.ChannelDiscovery;
import dev.pruneserve.pruning.cnn.ChannelGroup;
import dev.pruneserve.train.TrainingGraph;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * FLOPs (multiply-accumulates of Conv and Gemm, per image) of a CNN as channels are removed, and
 * IFSO's removal cost {@code Δacts(g) = Σ_{producers A} N·H_out(A)·W_out(A)} (activations freed
 * per channel, §3.4). A Conv computes {@code H_out·W_out·kh·kw·C_out·C_in/group} (depthwise:
 * one input channel per output, outputs follow the alive inputs), with C_out the alive channels of
 * the group its weight rows belong to and C_in its alive input channels; a Gemm/MatMul's outputs
 * are its weight's axis 0 with {@code transB = 1}, else axis 1. Mutable through {@link #remove};
 * not thread-safe.
 */
final class CnnCost {
  /** A Conv or Gemm: {@code group} is the Conv's group attribute (1 for Gemm). */
  private record Module(long spatialKernel, int outGroup, int mask, int outFull, int inFull, long group) {
    boolean depthwise() {
      return group > 1 && group == inFull;
    }
  }

  private final Module[] modules;
  private final int[] alive;
  private final int[] removedEntries;
  private final double[] acts;
  private final ChannelMasks where;
  private final double full;

  CnnCost(ModelProto model, ChannelMasks where, List<TrainingGraph.Mask> masks, int batch) {
    this.where = where;
    List<ChannelGroup> groups = where.groups();
    OnnxGraph g = new OnnxGraph(model);
    Map<String, long[]> shapes = ShapeInference.infer(g).shapes();
    // the axis of each module weight that indexes its outputs: 0 for Conv and Gemm transB = 1, 1 for
    // Gemm transB = 0 and MatMul ([in, out]); a slice on any other axis is an input slice
    Map<String, Integer> outAxis = new HashMap<>();
    for (NodeProto n : g.nodes()) {
      if (n.getInputCount() > 1 && (n.getOpType().equals("Gemm") || n.getOpType().equals("MatMul"))) {
        boolean transB = n.getAttributeList().stream().anyMatch(a -> a.getName().equals("transB") && a.getI() == 1);
        outAxis.put(n.getInput(1), transB ? 0 : 1);
      }
    }
    Map<String, Integer> producedBy = new HashMap<>(); // weight of a group-1 module -> the group of its outputs
    for (int i = 0; i < groups.size(); i++) {
      for (dev.pruneserve.pruning.cnn.ChannelSlice sl : groups.get(i).slices()) {
        if (sl.axis() == outAxis.getOrDefault(sl.initializer(), 0)) {
          producedBy.putIfAbsent(sl.initializer(), i);
        }
      }
    }
    Map<String, Integer> maskOf = new HashMap<>();
    for (int i = 0; i < masks.size(); i++) {
      maskOf.put(masks.get(i).node(), i);
    }
    modules = new Module[masks.size()];
    acts = new double[groups.size()];
    int k = 0;
    for (NodeProto n : g.nodes()) {
      String name = n.getName().isEmpty() ? n.getOpType() + "_" + k : n.getName();
      k++;
      Integer m = maskOf.get(name);
      if (m == null) {
        continue;
      }
      TensorProto w = g.initializer(n.getInput(1)).orElseThrow();
      long[] out = shapes.get(n.getOutput(0));
      long spatial = 1;
      long kernel = 1;
      int outFull;
      long group = 1;
      if (n.getOpType().equals("Conv")) {
        if (out == null || out.length != 4 || out[2] < 0 || out[3] < 0) {
          throw new IllegalArgumentException("Conv " + name + ": output spatial size unknown; FLOPs need static H, W");
        }
        spatial = out[2] * out[3];
        kernel = w.getDims(2) * w.getDims(3);
        outFull = (int) w.getDims(0);
        group = n.getAttributeList().stream().filter(a -> a.getName().equals("group")).mapToLong(a -> a.getI())
            .findFirst().orElse(1);
      } else {
        boolean transB = n.getAttributeList().stream().anyMatch(a -> a.getName().equals("transB") && a.getI() == 1);
        outFull = (int) w.getDims(transB ? 0 : 1);
      }
      Integer og = group == 1 ? producedBy.get(n.getInput(1)) : null; // depthwise rows follow their input
      modules[m] = new Module(spatial * kernel, og == null ? -1 : og, m, outFull, masks.get(m).width(), group);
      if (og != null) {
        acts[og] += (double) batch * spatial;
      }
    }
    alive = groups.stream().mapToInt(ChannelGroup::channels).toArray();
    removedEntries = new int[masks.size()];
    full = flops();
  }

  /** MACs per image of the Conv and Gemm nodes of {@code model}. */
  static double macs(ModelProto model) {
    List<TrainingGraph.Mask> masks = TrainingGraph.masksOf(model);
    return new CnnCost(model, new ChannelMasks(model, ChannelDiscovery.discover(model).groups(), masks), masks, 1)
        .flops();
  }

  /** MACs per image at the current widths. */
  double flops() {
    double total = 0;
    for (Module m : modules) {
      if (m == null) {
        continue;
      }
      double in = m.inFull() - removedEntries[m.mask()];
      if (m.depthwise()) { // one input channel per group: outputs follow the alive inputs (× the multiplier)
        total += m.spatialKernel() * (m.outFull() / (double) m.inFull()) * in;
        continue;
      }
      double out = m.outGroup() >= 0 ? alive[m.outGroup()] : m.outFull();
      total += m.spatialKernel() * out * in / m.group();
    }
    return total;
  }

  /** Remaining FLOPs as a fraction of the dense model's. */
  double remaining() {
    return flops() / full;
  }

  double denseFlops() {
    return full;
  }

  /** Activations freed by removing one channel of group {@code g}. */
  double acts(int g) {
    return acts[g];
  }

  int alive(int g) {
    return alive[g];
  }

  void remove(int g, int channel) {
    alive[g]--;
    for (ChannelMasks.Entry e : where.entries(g, channel)) {
      removedEntries[e.mask()]++;
    }
  }
}
