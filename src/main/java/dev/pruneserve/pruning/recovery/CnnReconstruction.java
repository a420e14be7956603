package dev.pruneserve.pruning.recovery;

import dev.pruneserve.onnx.proto.Onnx.ModelProto;
import dev.pruneserve.pruning.Progress;
import dev.pruneserve.session.ModelSession;
import dev.pruneserve.session.SessionLoader;
import dev.pruneserve.tensor.Tensor;
import dev.pruneserve.train.ImageSet;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.List;
import java.util.Map;

/**
 * Sequential reconstruction of a pruned CNN (ThiNet / He et al. 2017 as least squares): every
 * layer reading a pruned channel group ({@link CnnProjections}) is re-fitted, in graph order, so
 * that its kept outputs on the calibration images match the dense layer's, its inputs taken from
 * the pruned model as reconstructed so far. Images need no labels; they run in batches of
 * {@link #BATCH}. Single-threaded.
 */
public final class CnnReconstruction {
  /** Images per forward pass. */
  static final int BATCH = 32;

  private CnnReconstruction() {}

  /**
   * @param cuts the channel surgery's record (per weight and axis, the dense indices removed)
   * @param images calibration images; {@code settings.samples} of them are used (default 512)
   */
  public static Reconstruction.Result run(ModelProto dense, ModelProto pruned, Map<String, Map<Integer, BitSet>> cuts,
      ImageSet images, ReconstructSettings settings, SessionLoader loader, Path work, Progress progress)
      throws IOException {
    CnnProjections.Found found = CnnProjections.of(dense, cuts);
    String input = dev.pruneserve.train.TrainingGraph.imagesInput(dense);
    int used = settings.samplesFor(images.size(), true);
    int size = images.imageSize();
    long[] shape = {0, images.channels(), images.height(), images.width()};
    Reconstruction.Result r = SequentialReconstruction.run(dense, pruned, found.projections(),
        new SequentialReconstruction.Samples() {
          @Override
          public int size() {
            return (used + BATCH - 1) / BATCH;
          }

          @Override
          public Map<String, Tensor> inputs(ModelSession session, int sample) {
            int from = sample * BATCH;
            int b = Math.min(BATCH, used - from);
            long[] s = shape.clone();
            s[0] = b;
            return Map.of(input, Tensor.fp32(input, s, Arrays.copyOfRange(images.pixels(), from * size, (from + b)
                * size)));
          }
        }, settings.lambda(), loader, work, progress);
    List<Map<String, Object>> report = new ArrayList<>(r.projections());
    report.addAll(found.skipped());
    return new Reconstruction.Result(r.model(), report);
  }
}
