package dev.pruneserve.pruning;

import dev.pruneserve.model.SessionLoader;
import dev.pruneserve.onnx.proto.Onnx.ModelProto;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Runs a {@link PruneRecipe} on a dense model (weight-only methods: decoders and encoders;
 * calibration methods: decoders). Calibration-based methods (Wanda-SP, FLAP) load
 * temporary tapped copies of the model through {@code loader} in a private temporary directory that
 * is removed afterwards. Single-threaded; the input model is not changed.
 */
public final class PruneMethods {
  private PruneMethods() {}

  /**
   * @param calibration token-id sequences (each with its BOS); required when
   *     {@link PruneRecipe#needsCalibration()}, ignored otherwise
   */
  public static Pruner.Result apply(ModelProto dense, PruneRecipe r, List<int[]> calibration, SessionLoader loader)
      throws IOException {
    if (!r.needsCalibration()) {
      return Pruner.prune(dense, new Pruner.Options(r.criterion(), r.ratio(), r.seed(), r.firstLayer(), r.endLayer()));
    }
    if (calibration == null || calibration.isEmpty()) {
      throw new IllegalArgumentException(r.method() + " needs calibration sequences");
    }
    Path work = Files.createTempDirectory("pruneserve-calib");
    try {
      if (r.method().equals("wanda-sp")) {
        return WandaSp.prune(dense, r.ratio(), r.firstLayer(), r.endLayer(), calibration, loader, work).result();
      }
      Flap.Options o = new Flap.Options(r.ratio(), r.flapMetric(), r.flapStructure(), r.biasCompensation(),
          r.firstLayer(), r.endLayer());
      return Flap.prune(dense, o, calibration, loader, work).result();
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
