package dev.pruneserve.pruning.ifso;

import dev.pruneserve.onnx.proto.Onnx.ModelProto;
import dev.pruneserve.onnx.proto.Onnx.NodeProto;
import dev.pruneserve.pruning.cnn.ChannelGroup;
import dev.pruneserve.pruning.cnn.ChannelSlice;
import dev.pruneserve.train.TrainingGraph;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Where each channel of each {@link ChannelGroup} sits in the per-module input masks of a
 * {@link TrainingGraph} (IFSO's "mask on every Conv/Linear input"): channel {@code c} of group
 * {@code g} is the mask entries {@link #entries}{@code (g, c)} of the group's consuming modules
 * (a Gemm after Flatten has H·W entries per channel). Zeroing all of them is equivalent to removing
 * the channel. Immutable.
 */
public final class ChannelMasks {
  /** One mask entry: {@code mask} indexes {@link TrainingGraph#masks()}. */
  public record Entry(int mask, int index) {}

  private final List<ChannelGroup> groups;
  private final List<List<Entry>[]> entries = new ArrayList<>();

  public ChannelMasks(ModelProto model, List<ChannelGroup> groups, List<TrainingGraph.Mask> masks) {
    this.groups = List.copyOf(groups);
    Map<String, Integer> byWeight = new HashMap<>();
    for (int i = 0; i < masks.size(); i++) {
      byWeight.put(masks.get(i).weight(), i);
    }
    Map<String, NodeProto> readers = new HashMap<>();
    java.util.Set<String> matMuls = new java.util.HashSet<>();
    for (NodeProto n : model.getGraph().getNodeList()) {
      if ((n.getOpType().equals("Conv") || n.getOpType().equals("Gemm")) && n.getInputCount() > 1) {
        readers.put(n.getInput(1), n);
      } else if (n.getOpType().equals("MatMul") && n.getInputCount() > 1) {
        matMuls.add(n.getInput(1));
      }
    }
    for (ChannelGroup g : groups) {
      @SuppressWarnings({"unchecked", "rawtypes"})
      List<Entry>[] per = new List[g.channels()];
      for (int c = 0; c < per.length; c++) {
        per[c] = new ArrayList<>();
      }
      for (ChannelSlice s : g.slices()) {
        if (matMuls.contains(s.initializer())) {
          throw new IllegalArgumentException(g.label() + " is read by a MatMul (weight " + s.initializer() + "): mask"
              + " gradients cover Conv and Gemm inputs only; export the classifier head as Gemm");
        }
        NodeProto n = readers.get(s.initializer());
        Integer m = byWeight.get(s.initializer());
        if (n == null || m == null || !readsInput(n, s.axis())) {
          continue;
        }
        for (int c = 0; c < per.length; c++) {
          for (int j = 0; j < s.multiplicity(); j++) {
            per[c].add(new Entry(m, (s.offset() + c) * s.multiplicity() + j));
          }
        }
      }
      for (int c = 0; c < per.length; c++) {
        if (per[c].isEmpty()) {
          throw new IllegalArgumentException(g.label() + ": channel " + c + " reaches no Conv/Gemm input mask");
        }
        per[c] = List.copyOf(per[c]);
      }
      entries.add(per);
    }
  }

  /** Whether a slice along {@code axis} of {@code n}'s weight indexes its input channels. */
  private static boolean readsInput(NodeProto n, int axis) {
    if (n.getOpType().equals("Gemm")) {
      boolean transB = n.getAttributeList().stream().anyMatch(a -> a.getName().equals("transB") && a.getI() == 1);
      return axis == (transB ? 1 : 0);
    }
    long group = n.getAttributeList().stream().filter(a -> a.getName().equals("group")).mapToLong(a -> a.getI())
        .findFirst().orElse(1);
    return axis == 1 || (axis == 0 && group > 1); // depthwise: weight row c reads input channel c
  }

  public List<ChannelGroup> groups() {
    return groups;
  }

  public List<Entry> entries(int group, int channel) {
    return entries.get(group)[channel];
  }

  /** Sets every mask entry of the channel (0 removes it). */
  public void set(Map<String, float[]> masks, List<TrainingGraph.Mask> order, int group, int channel, float v) {
    for (Entry e : entries(group, channel)) {
      masks.get(order.get(e.mask()).name())[e.index()] = v;
    }
  }

  /** Σ over the channel's entries of {@code perEntry} (arrays in mask order). */
  public double sum(List<float[]> perEntry, int group, int channel) {
    double s = 0;
    for (Entry e : entries(group, channel)) {
      s += perEntry.get(e.mask())[e.index()];
    }
    return s;
  }
}
