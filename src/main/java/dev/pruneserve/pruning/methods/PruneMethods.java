package dev.pruneserve.pruning.methods;

import dev.pruneserve.error.ServingException;
import dev.pruneserve.graph.OnnxGraph;
import dev.pruneserve.onnx.proto.Onnx.ModelProto;
import dev.pruneserve.pruning.ModelCheck;
import dev.pruneserve.pruning.Progress;
import dev.pruneserve.pruning.cnn.ChannelDiscovery;
import dev.pruneserve.pruning.criteria.Pruner;
import dev.pruneserve.pruning.transformer.DecoderStructure;
import dev.pruneserve.pruning.transformer.HeadDiscovery;
import dev.pruneserve.pruning.transformer.HeadGroup;
import dev.pruneserve.session.SessionLoader;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Runs a {@link PruneRecipe} on a dense model: detects the model family once (transformer or
 * CNN), hands the recipe's {@link PruneMethod} a {@link PruneContext} with a private temporary
 * folder (removed afterwards), and validates every result with {@link ModelCheck} (loads and runs
 * in ONNX Runtime) before returning it. Single-threaded; the input model is not changed.
 */
public final class PruneMethods {
  /** What a model is, for dispatch and reports. */
  public enum Family {
    TRANSFORMER, CNN
  }

  private PruneMethods() {}

  /**
   * @param tokens token-id sequences (each with its BOS); required when the recipe needs tokens
   *     on a transformer, ignored otherwise
   */
  public static Pruner.Result apply(ModelProto dense, PruneRecipe r, List<int[]> tokens, SessionLoader loader)
      throws IOException {
    return apply(dense, family(dense), r, tokens, loader, Progress.NONE);
  }

  /** As above for a model of a known family, reporting the method's phases, then validating. */
  public static Pruner.Result apply(ModelProto dense, Family family, PruneRecipe r, List<int[]> tokens,
      SessionLoader loader, Progress progress) throws IOException {
    requirePrecision(dense, r);
    progress.report(r.needsTokens() && family == Family.TRANSFORMER ? "calibrating" : "scoring", 0);
    Path work = Files.createTempDirectory(dev.pruneserve.repository.Scratch.dir(), "prune");
    Pruner.Result out;
    try {
      if (family == Family.CNN) {
        out = CnnMethods.apply(dense, r, loader, work, progress);
      } else {
        if (r.needsImages()) {
          throw ServingException.invalid(!r.method().prunesTransformers()
              ? r.method().name() + " prunes CNN channels; this model has no prunable convolution channel group"
              : "calibration.images and recover apply to CNNs only; this model has no prunable convolution"
                  + " channel group");
        }
        r.requireData(tokens != null && !tokens.isEmpty());
        requireLayers(dense, r);
        out = r.method().pruneTransformer(new PruneContext(dense, r, tokens, null, loader, work, progress));
        if (r.reconstructs()) { // before validation: the stored model is the reconstructed one
          var rec = dev.pruneserve.pruning.recovery.Reconstruction.transformer(dense, out.model(), tokens, r
              .reconstruct(), loader, work, progress);
          Map<String, Object> d = new LinkedHashMap<>(out.details());
          d.put("reconstructed", rec.projections());
          out = new Pruner.Result(rec.model(), out.headsPerLayer(), out.channelsPerLayer(), out.parametersBefore(),
              Pruner.parameters(rec.model()), d);
        }
      }
    } finally {
      deleteTree(work);
    }
    if (out.parametersAfter() >= out.parametersBefore()) {
      throw ServingException.invalid("ratio " + r.ratio() + " removes no " + (family == Family.CNN ? "channel"
          : "head or channel") + " of this model (" + r.ratioSemantics() + "); raise the ratio");
    }
    if (family == Family.TRANSFORMER) {
      out = noteUnprunedHeads(dense, r, out);
    }
    progress.report("validating", 0);
    ModelCheck.validate(out.model(), loader);
    progress.report("validating", 1);
    return out;
  }

  /**
   * The recipe's layer range must lie within the model's layers (attention blocks or MLPs), and
   * every attention block must be matched when the recipe prunes heads: otherwise heads would
   * silently not be pruned while the recipe says they are (FAILED_PRECONDITION naming each
   * unmatched Softmax and why).
   */
  private static void requireLayers(ModelProto dense, PruneRecipe r) {
    OnnxGraph g = new OnnxGraph(dense);
    HeadDiscovery.Scan scan = HeadDiscovery.scan(g);
    if (!scan.unmatched().isEmpty() && r.groups().heads()) {
      throw ServingException.precondition(scan.unmatched().size() + " attention block(s) of this model were not"
          + " recognised, so their heads cannot be pruned as the recipe asks: " + String.join("; ", scan.unmatched())
          + (r.method().prunesGroupKinds() ? " (to prune MLP channels only, set groups to mlp)" : ""));
    }
    int layers = new DecoderStructure(scan.blocks(), dev.pruneserve.pruning.transformer.GatedMlpDiscovery.gatedMlps(g),
        dev.pruneserve.pruning.transformer.FfnDiscovery.plainFfns(g)).layers(); // no second head scan
    if (r.firstLayer() >= layers || r.endLayer() > layers) {
      throw ServingException.invalid("layer range [" + r.firstLayer() + ", " + (r.endLayer() < 0 ? "end" : r.endLayer())
          + ") is outside the model's " + layers + " layers");
    }
  }

  /**
   * A recipe that prunes heads but removed none (the ratio is below one unit per layer, e.g. two
   * K/V heads and p < 0.5) says so in the report's {@code details.heads_unchanged}, so a
   * channels-only result is never taken for what was asked.
   */
  private static Pruner.Result noteUnprunedHeads(ModelProto dense, PruneRecipe r, Pruner.Result out) {
    List<HeadGroup> blocks = HeadDiscovery.attentionBlocks(new OnnxGraph(dense));
    if (!r.groups().heads() || blocks.isEmpty() || !blocks.stream().map(HeadGroup::queryHeads).toList().equals(
        out.headsPerLayer())) {
      return out;
    }
    HeadGroup b = blocks.get(0);
    Map<String, Object> d = new LinkedHashMap<>(out.details());
    d.put("heads_unchanged", "ratio " + r.ratio() + " removes no attention unit in any layer (" + b.units()
        + " units of " + b.groupSize() + " query head(s) and one K/V head in layer 0); raise the ratio, or set groups"
        + " to mlp to ask for channels only");
    return out.withDetails(d);
  }

  /** FP16/BF16 weights only for the methods that prune them in their own type (FAILED_PRECONDITION naming the type). */
  private static void requirePrecision(ModelProto dense, PruneRecipe r) {
    if (r.method().prunesHalfPrecision()) {
      return;
    }
    dense.getGraph().getInitializerList().stream()
        .filter(t -> t.getDataType() == dev.pruneserve.graph.FloatTensors.FLOAT16
            || t.getDataType() == dev.pruneserve.graph.FloatTensors.BFLOAT16)
        .findFirst().ifPresent(t -> {
          throw ServingException.precondition(r.method().name() + " needs FP32 weights; this model's are "
              + (t.getDataType() == dev.pruneserve.graph.FloatTensors.FLOAT16 ? "FP16" : "BF16") + " (e.g. '"
              + t.getName() + "'). Methods that prune FP16/BF16 models in their own type: " + String.join(", ",
                  MethodRegistry.all().stream().filter(PruneMethod::prunesHalfPrecision).map(PruneMethod::name)
                      .toList()));
        });
  }

  /**
   * CNN when the graph has no attention block and either has convolution channel groups to prune
   * or has convolutions and no MLP (a CNN whose every group is blocked: its refusal names the
   * blocking nodes, not a transformer's missing blocks).
   */
  public static Family family(ModelProto m) {
    OnnxGraph g = new OnnxGraph(m);
    if (!HeadDiscovery.attentionBlocks(g).isEmpty()) {
      return Family.TRANSFORMER;
    }
    if (!ChannelDiscovery.discover(m).groups().isEmpty()) {
      return Family.CNN;
    }
    boolean convs = g.nodes().stream().anyMatch(n -> n.getOpType().equals("Conv") || n.getOpType().equals(
        "ConvTranspose"));
    return convs && dev.pruneserve.pruning.transformer.GatedMlpDiscovery.gatedMlps(g).isEmpty()
        && dev.pruneserve.pruning.transformer.FfnDiscovery.plainFfns(g).isEmpty() ? Family.CNN : Family.TRANSFORMER;
  }

  /**
   * The widths of a result for reports: {@code channels_per_group} for a CNN (kept output channels
   * of each channel group, in discovery order), otherwise {@code heads_per_layer} and
   * {@code channels_per_layer} (kept heads and MLP / FFN channels of each layer).
   */
  public static Map<String, Object> widths(Family family, Pruner.Result r) {
    Map<String, Object> m = new LinkedHashMap<>();
    if (family == Family.CNN) {
      m.put("channels_per_group", r.channelsPerLayer());
    } else {
      m.put("heads_per_layer", r.headsPerLayer());
      m.put("channels_per_layer", r.channelsPerLayer());
    }
    return m;
  }

  /**
   * Fraction of the pruning step done when {@code phase} is {@code f} done, with the method's
   * phase shares ({@link PruneMethod#PHASES}); 0 for phases outside the pruning step.
   */
  public static double overall(PruneMethod method, String phase, double f) {
    double[] share = method.phaseShares();
    double start = 0;
    for (int i = 0; i < PruneMethod.PHASES.length; i++) {
      if (PruneMethod.PHASES[i].equals(phase)) {
        return start + share[i] * f;
      }
      start += share[i];
    }
    return 0;
  }

  static void deleteTree(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    try (var files = Files.walk(dir)) {
      for (Path p : (Iterable<Path>) files.sorted(java.util.Comparator.reverseOrder())::iterator) {
        Files.deleteIfExists(p);
      }
    }
  }
}
