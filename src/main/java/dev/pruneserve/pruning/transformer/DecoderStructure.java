package dev.pruneserve.pruning.transformer;

import dev.pruneserve.graph.OnnxGraph;
import dev.pruneserve.onnx.proto.Onnx.NodeProto;
import java.util.List;

/**
 * The prunable structure of a transformer, found by pattern once per job: attention blocks, gated
 * (SwiGLU) MLPs and plain FFNs, in layer order. Immutable.
 */
public record DecoderStructure(List<HeadGroup> attention, List<MlpGroup> gatedMlps, List<FfnGroup> ffns) {
  public DecoderStructure {
    attention = List.copyOf(attention);
    gatedMlps = List.copyOf(gatedMlps);
    ffns = List.copyOf(ffns);
  }

  public static DecoderStructure of(OnnxGraph g) {
    return new DecoderStructure(HeadDiscovery.attentionBlocks(g), GatedMlpDiscovery.gatedMlps(g),
        FfnDiscovery.plainFfns(g));
  }

  /** Layers: the most of attention blocks, gated MLPs and FFNs. */
  public int layers() {
    return Math.max(attention.size(), Math.max(gatedMlps.size(), ffns.size()));
  }

  /**
   * Decoder layers with one attention block and one gated MLP each (the methods that run a
   * causal-LM loss: MINI-LLM, forward search, Taylor); their count.
   */
  public static int requireDecoderLayers(OnnxGraph g) {
    int layers = requireLayers(g, GroupKinds.ALL);
    if (GatedMlpDiscovery.gatedMlps(g).size() != layers) {
      throw new IllegalArgumentException("this method needs decoder layers with a gated MLP each (it runs a causal-LM"
          + " loss); found " + layers
          + " layers with plain FFNs (encoders take wanda-sp, flap or weight-only methods)");
    }
    return layers;
  }

  /**
   * Layers with one attention block and one MLP ({@link ChannelModules}: gated or plain FFN) each,
   * for the kinds a recipe prunes: {@link GroupKinds#MLP} needs MLPs only (attention blocks are
   * neither matched nor counted), {@link GroupKinds#ATTENTION} matched attention blocks only.
   */
  public static int requireLayers(OnnxGraph g, GroupKinds kinds) {
    if (kinds == GroupKinds.MLP) {
      int mlps = ChannelModules.of(g).size();
      if (mlps == 0) {
        throw new IllegalArgumentException("groups: mlp needs MLPs (gated or plain FFNs); none was found in the graph");
      }
      return mlps;
    }
    HeadDiscovery.Scan scan = HeadDiscovery.scan(g);
    if (kinds == GroupKinds.ATTENTION) {
      if (scan.blocks().isEmpty() || !scan.unmatched().isEmpty()) {
        throw new IllegalArgumentException("groups: attention needs every attention block matched; found "
            + scan.blocks().size() + (scan.unmatched().isEmpty() ? "" : "; not matched: "
                + String.join("; ", scan.unmatched())));
      }
      return scan.blocks().size();
    }
    int blocks = scan.blocks().size();
    int mlps = ChannelModules.of(g).size();
    if (blocks == 0 || blocks != mlps || !scan.unmatched().isEmpty()) {
      throw new IllegalArgumentException("calibration-based pruning needs layers with one attention block and one"
          + " MLP (gated or plain FFN) each; found " + blocks + " attention blocks and " + mlps + " MLPs"
          + (scan.unmatched().isEmpty() ? "" : "; not matched: " + String.join("; ", scan.unmatched())));
    }
    return blocks;
  }

  /** The activation a projection weight multiplies: input 0 of the MatMul reading {@code weight}. */
  public static String inputOf(OnnxGraph g, String weight) {
    for (NodeProto n : g.nodes()) {
      if (n.getOpType().equals("MatMul") && n.getInput(1).equals(weight)) {
        return n.getInput(0);
      }
    }
    throw new IllegalStateException("no MatMul reads " + weight);
  }
}
