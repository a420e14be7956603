package dev.pruneserve.pruning.methods;

import dev.pruneserve.graph.OnnxGraph;
import dev.pruneserve.model.SessionLoader;
import dev.pruneserve.onnx.proto.Onnx.ModelProto;
import dev.pruneserve.pruning.Calibration;
import dev.pruneserve.pruning.Flap;
import dev.pruneserve.pruning.HeadDiscovery;
import dev.pruneserve.pruning.ModelCheck;
import dev.pruneserve.pruning.Progress;
import dev.pruneserve.pruning.Pruner;
import dev.pruneserve.pruning.WandaSp;
import dev.pruneserve.pruning.cnn.ChannelDiscovery;
import dev.pruneserve.pruning.cnn.ChannelPruner;
import dev.pruneserve.pruning.taylor.TaylorLlm;
import dev.pruneserve.pruning.zo.MiniLlm;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Runs a {@link PruneRecipe} on a dense model (weight-only methods: decoders and encoders;
 * calibration methods: decoders). Calibration-based methods (Wanda-SP, FLAP, MINI-LLM) load
 * temporary tapped copies of the model through {@code loader} in a private temporary directory that
 * is removed afterwards. Every result is validated by {@link ModelCheck} (loads and runs in ONNX
 * Runtime) before it is returned. Single-threaded; the input model is not changed.
 */
public final class PruneMethods {
  private PruneMethods() {}

  /**
   * @param calibration token-id sequences (each with its BOS); required when
   *     {@link PruneRecipe#needsCalibration()}, ignored otherwise
   */
  public static Pruner.Result apply(ModelProto dense, PruneRecipe r, List<int[]> calibration, SessionLoader loader)
      throws IOException {
    return apply(dense, r, calibration, loader, Progress.NONE);
  }

  /** As above, reporting phases calibrating → scoring → validating. */
  public static Pruner.Result apply(ModelProto dense, PruneRecipe r, List<int[]> calibration, SessionLoader loader,
      Progress progress) throws IOException {
    progress.report(r.needsCalibration() ? "calibrating" : "scoring", 0);
    Pruner.Result out = prune(dense, r, calibration, loader, progress);
    progress.report("validating", 0);
    ModelCheck.validate(out.model(), loader);
    progress.report("validating", 1);
    return out;
  }

  /** No attention block, and convolution channel groups to prune. */
  public static boolean isCnn(ModelProto m) {
    return HeadDiscovery.attentionBlocks(new OnnxGraph(m)).isEmpty() && !ChannelDiscovery.discover(m).groups().isEmpty();
  }

  /**
   * The widths of a result for reports: {@code channels_per_group} for a CNN (kept output channels
   * of each channel group, in discovery order), otherwise {@code heads_per_layer} and
   * {@code channels_per_layer} (kept heads and MLP / FFN channels of each layer).
   */
  public static Map<String, Object> widths(ModelProto dense, Pruner.Result r) {
    Map<String, Object> m = new LinkedHashMap<>();
    if (isCnn(dense)) {
      m.put("channels_per_group", r.channelsPerLayer());
    } else {
      m.put("heads_per_layer", r.headsPerLayer());
      m.put("channels_per_layer", r.channelsPerLayer());
    }
    return m;
  }

  private static Pruner.Result prune(ModelProto dense, PruneRecipe r, List<int[]> calibration, SessionLoader loader,
      Progress progress) throws IOException {
    if (isCnn(dense)) {
      return CnnMethods.apply(dense, r, loader, progress);
    }
    if (r.method().equals("ifso") || r.needsImages()) {
      throw new IllegalArgumentException(r.method().equals("ifso") ? "ifso prunes CNN channels; this model has no"
          + " prunable convolution channel group" : "calibration.images and recover apply to CNNs only; this model"
          + " has no prunable convolution channel group");
    }
    if (!r.needsCalibration()) {
      return Pruner.prune(dense, new Pruner.Options(r.criterion(), r.ratio(), r.seed(), r.firstLayer(), r.endLayer()));
    }
    if (calibration == null || calibration.isEmpty()) {
      throw new IllegalArgumentException(r.method() + " needs calibration sequences");
    }
    Path work = Files.createTempDirectory("pruneserve-calib");
    try {
      if (r.method().equals("mini-llm")) {
        return MiniLlm.prune(dense, new MiniLlm.Options(r.ratio(), r.firstLayer(), r.endLayer(), r.seed(),
            r.miniLlm()), calibration, loader, work, progress).result();
      }
      if (r.method().equals("forward-search")) {
        return dev.pruneserve.pruning.search.ForwardSearch.prune(dense, new dev.pruneserve.pruning.search.ForwardSearch
            .Options(r.ratio(), r.search().channels(), r.search().budget(), r.biasCompensation(), r.search().subset(),
            8),
            calibration, loader, work, progress).result();
      }
      if (r.method().equals("taylor")) {
        return TaylorLlm.prune(dense, r.ratio(), r.firstLayer(), r.endLayer(), calibration, loader, work, progress)
            .result();
      }
      if (r.method().equals("wanda-sp")) {
        return WandaSp.prune(dense, r.ratio(), r.firstLayer(), r.endLayer(), calibration, loader, work, progress)
            .result();
      }
      Flap.Options o = new Flap.Options(r.ratio(), r.flapMetric(), r.flapStructure(), r.biasCompensation(),
          r.firstLayer(), r.endLayer());
      return Flap.prune(dense, o, calibration, loader, work, progress).result();
    } finally {
      try (var files = Files.list(work)) {
        for (Path f : (Iterable<Path>) files::iterator) {
          Files.deleteIfExists(f);
        }
      }
      Files.deleteIfExists(work);
    }
  }
}
