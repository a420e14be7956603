package dev.pruneserve.pruning;

import dev.pruneserve.error.ServingException;
import dev.pruneserve.fixtures.FashionMnist;
import dev.pruneserve.model.SessionLoader;
import dev.pruneserve.onnx.proto.Onnx.ModelProto;
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
    ImageSet images = r.needsImages() ? images(r.cnn()) : null;
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

  private static ImageSet images(CnnSettings s) throws IOException {
    if (s.dataset().isEmpty()) {
      throw new IllegalArgumentException("this recipe needs labelled training images: set calibration.images"
          + " (built-in: " + CnnSettings.DATASETS + ")");
    }
    if (!FashionMnist.available()) {
      throw ServingException.precondition("the fashion-mnist dataset is not installed on the server"
          + " (apt-get install dataset-fashion-mnist, or set PRUNESERVE_FASHION_MNIST)");
    }
    ImageSet all = FashionMnist.train();
    return s.images() == 0 ? all : all.head(s.images());
  }
}
