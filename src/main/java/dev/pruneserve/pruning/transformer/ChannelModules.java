package dev.pruneserve.pruning.transformer;

import dev.pruneserve.graph.OnnxGraph;
import dev.pruneserve.onnx.proto.Onnx.ModelProto;
import java.util.BitSet;
import java.util.List;
import java.util.Map;

/**
 * The channel-prunable module of each transformer layer, whichever form it has: a decoder's gated
 * MLP or an encoder's plain FFN. Calibration methods score channels by the projection that reads
 * them ({@link Module#readWeight}: down_proj or fc2, MatMul layout [F, D]) and remove them through
 * the surgery of the module's form. Stateless.
 */
public final class ChannelModules {
  /** Layer {@code index}'s module: the weight reading its channels and its width F. */
  public record Module(int index, String readWeight, int width) {}

  private ChannelModules() {}

  /** Gated MLPs when the graph has any, else plain FFNs, in layer order. */
  public static List<Module> of(OnnxGraph g) {
    List<MlpGroup> mlps = GatedMlpDiscovery.gatedMlps(g);
    if (!mlps.isEmpty()) {
      return mlps.stream().map(m -> new Module(m.index(), m.downWeight(), m.width())).toList();
    }
    return FfnDiscovery.plainFfns(g).stream().map(f -> new Module(f.index(), f.weight2(), f.width())).toList();
  }

  /** Removes {@code removed.get(layer)} channels from each layer's module (missing = none). */
  public static ModelProto remove(ModelProto model, Map<Integer, BitSet> removed) {
    OnnxGraph g = new OnnxGraph(model);
    List<MlpGroup> mlps = GatedMlpDiscovery.gatedMlps(g);
    return mlps.isEmpty() ? Surgery.removeFfnChannels(g, FfnDiscovery.plainFfns(g), removed)
        : Surgery.removeMlpChannels(g, mlps, removed);
  }
}
