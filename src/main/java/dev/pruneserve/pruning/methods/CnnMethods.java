package dev.pruneserve.pruning.methods;

import dev.pruneserve.error.ServingException;
import dev.pruneserve.fixtures.FashionMnist;
import dev.pruneserve.model.SessionLoader;
import dev.pruneserve.onnx.proto.Onnx.ModelProto;
import dev.pruneserve.pruning.Progress;
import dev.pruneserve.pruning.Pruner;
import dev.pruneserve.pruning.cnn.ChannelPruner;
import dev.pruneserve.pruning.ifso.CnnSettings;
import dev.pruneserve.pruning.ifso.Ifso;
import dev.pruneserve.train.ImageSet;
import dev.pruneserve.train.Trainer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The CNN branch of {@link PruneMethods}: weight-only channel criteria (random, L1, L2; local
 * ratio), IFSO and first-order Taylor on masks (ratio = fraction of FLOPs removed), then the
 * optional {@code recover} fine-tune; progress phases scoring → training. Temporary models live in
 * a private folder removed afterwards. Single-threaded.
 */
final class CnnMethods {
  private CnnMethods() {}

  static Pruner.Result apply(ModelProto dense, PruneRecipe r, SessionLoader loader, Progress progress)
      throws IOException {
    boolean gradients = r.method().equals("ifso") || r.method().equals("taylor");
    if (gradients && r.cnn().dataset().isEmpty()) {
      throw new IllegalArgumentException(r.method() + " on a CNN needs labelled training images: set"
          + " calibration.images (built-in: " + CnnSettings.DATASETS + ")");
    }
    ImageSet images = gradients || r.cnn().recoverSteps() > 0 ? images(r.cnn()) : null;
    if (images != null) {
      checkShape(dense, images);
    }
    Map<String, Object> details = new LinkedHashMap<>();
    ModelProto pruned;
    List<Integer> widths;
    Path work = Files.createTempDirectory("pruneserve-cnn");
    try {
      switch (r.method()) {
        case "random", "magnitude-l1", "magnitude-l2" -> {
          ChannelPruner.Score score = r.method().equals("random") ? ChannelPruner.Score.RANDOM
              : r.method().equals("magnitude-l1") ? ChannelPruner.Score.L1 : ChannelPruner.Score.L2;
          ChannelPruner.Result c = ChannelPruner.prune(dense, score, r.ratio(), r.seed());
          pruned = c.model();
          widths = c.widths();
        }
        case "ifso", "taylor" -> {
          Ifso.Criterion c = r.method().equals("ifso") ? Ifso.Criterion.IFSO : Ifso.Criterion.TAYLOR;
          Ifso.Outcome o = Ifso.prune(dense, images, r.cnn().ifso(c, 1 - r.ratio(), r.seed()), loader, work,
              progress);
          pruned = o.model();
          widths = o.widths();
          details.put("flops_before", o.flopsBefore());
          details.put("flops_after", o.flopsAfter());
          details.put("flops_kept", o.flopsAfter() / o.flopsBefore());
          details.put("removals", o.removals());
          details.put("scored_batches", o.scoredBatches());
          details.put("scoring_seconds", o.scoringSeconds());
          details.put("training_seconds", o.trainingSeconds());
        }
        default -> throw new IllegalArgumentException(r.method() + " is defined for transformer blocks; CNNs take"
            + " random, magnitude-l1, magnitude-l2, ifso or taylor");
      }
      CnnSettings s = r.cnn();
      if (s.recoverSteps() > 0) {
        progress.report("training", 0);
        double[] loss = new double[1];
        pruned = Trainer.fineTune(pruned, images, Trainer.Options.of(s.recoverSteps(), s.recoverLr(), r.seed()),
            s.recoverBatch(), loader, work, (step, lr, res) -> {
              loss[0] = res.loss();
              progress.report("training", (step + 1.0) / s.recoverSteps());
            });
        details.put("recover_final_batch_loss", loss[0]);
      }
    } finally {
      try (var files = Files.list(work)) {
        for (Path f : (Iterable<Path>) files::iterator) {
          Files.deleteIfExists(f);
        }
      }
      Files.deleteIfExists(work);
    }
    return new Pruner.Result(pruned, List.of(), widths, Pruner.parameters(dense), Pruner.parameters(pruned), details);
  }

  /** The images must fit the model's input [N, C, H, W] and its logits [N, classes ≥ labels]. */
  private static void checkShape(ModelProto m, ImageSet images) {
    String in = dev.pruneserve.train.TrainingGraph.imagesInput(m);
    var dims = m.getGraph().getInputList().stream().filter(v -> v.getName().equals(in)).findFirst().orElseThrow()
        .getType().getTensorType().getShape().getDimList();
    long[] want = {images.channels(), images.height(), images.width()};
    for (int d = 1; d < Math.min(4, dims.size()); d++) {
      if (dims.size() != 4 || (dims.get(d).hasDimValue() && dims.get(d).getDimValue() != want[d - 1])) {
        throw new IllegalArgumentException("the images (" + want[0] + "x" + want[1] + "x" + want[2] + ") do not fit"
            + " the model's input '" + in + "' " + dims.stream().map(x -> x.hasDimValue() ? String.valueOf(
                x.getDimValue()) : x.getDimParam()).toList());
      }
    }
    var out = m.getGraph().getOutput(0).getType().getTensorType().getShape();
    if (out.getDimCount() != 2 || (out.getDim(1).hasDimValue() && out.getDim(1).getDimValue() < images.classes())) {
      throw new IllegalArgumentException("the model's output is not logits [N, >= " + images.classes() + "]");
    }
  }

  private static ImageSet images(CnnSettings s) throws IOException {
    if (s.dataset().isEmpty()) {
      throw new IllegalArgumentException("this recipe needs labelled training images: set calibration.images"
          + " (built-in: " + CnnSettings.DATASETS + ")");
    }
    if (s.dataset().startsWith(CnnSettings.DIRECTORY)) {
      ImageSet all;
      try {
        all = dev.pruneserve.train.NpyImages.load(Path.of(s.dataset().substring(CnnSettings.DIRECTORY.length())));
      } catch (IOException e) {
        throw ServingException.precondition("the image dataset cannot be read: " + e.getMessage());
      }
      return s.images() == 0 ? all : all.head(s.images());
    }
    if (s.dataset().startsWith(CnnSettings.MODEL)) {
      throw new IllegalArgumentException(s.dataset() + " names a dataset in a model repository; give its folder as "
          + CnnSettings.DIRECTORY + "<path> here");
    }
    if (!FashionMnist.available()) {
      throw ServingException.precondition("the fashion-mnist dataset is not installed on the server"
          + " (apt-get install dataset-fashion-mnist, or set PRUNESERVE_FASHION_MNIST)");
    }
    ImageSet all;
    try {
      all = FashionMnist.train();
    } catch (IOException e) {
      throw ServingException.precondition("the fashion-mnist dataset cannot be read: " + e.getMessage());
    }
    return s.images() == 0 ? all : all.head(s.images());
  }
}
