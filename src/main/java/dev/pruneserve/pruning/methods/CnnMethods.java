package dev.pruneserve.pruning.methods;

import dev.pruneserve.assets.FashionMnist;
import dev.pruneserve.error.ServingException;
import dev.pruneserve.onnx.proto.Onnx.ModelProto;
import dev.pruneserve.pruning.Progress;
import dev.pruneserve.pruning.cnn.BnRecalibration;
import dev.pruneserve.pruning.cnn.ChannelDependencies;
import dev.pruneserve.pruning.cnn.ChannelDiscovery;
import dev.pruneserve.pruning.cnn.ChannelPruner;
import dev.pruneserve.pruning.cnn.CutRecord;
import dev.pruneserve.pruning.cnn.NotPrunable;
import dev.pruneserve.pruning.criteria.Pruner;
import dev.pruneserve.pruning.ifso.CnnSettings;
import dev.pruneserve.pruning.recovery.CnnReconstruction;
import dev.pruneserve.pruning.recovery.ReconstructSettings;
import dev.pruneserve.session.SessionLoader;
import dev.pruneserve.train.ImageSet;
import dev.pruneserve.train.NpyImages;
import dev.pruneserve.train.Trainer;
import dev.pruneserve.train.TrainingGraph;
import dev.pruneserve.train.TrainingSession;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The CNN flow of {@link PruneMethods}: loads the recipe's images when it needs them and checks
 * they fit the model, runs the method's {@link PruneMethod#pruneCnn}, then the optional
 * reconstruction (after a first BatchNormalization recalibration when one is asked for), the
 * {@code recover} fine-tune (progress phase training) and the BatchNormalization recalibration (on
 * by default whenever images are given, off by default with reconstruction: {@link RecipeParser}).
 * Single-threaded.
 */
final class CnnMethods {
  private CnnMethods() {}

  static Pruner.Result apply(ModelProto dense, PruneRecipe r, SessionLoader loader, Path work, Progress progress)
      throws IOException {
    if (!r.method().prunesCnns()) {
      return r.method().pruneCnn(new PruneContext(dense, r, null, null, loader, work, progress));
    }
    ChannelDependencies deps = ChannelDiscovery.discover(dense);
    if (deps.groups().isEmpty()) {
      throw ServingException.precondition(ChannelPruner.noGroups(deps));
    }
    if (r.method().usesCnnSchedule() && r.cnn().dataset().isEmpty()) {
      throw ServingException.invalid(r.missingImages());
    }
    if (r.reconstructs() && r.cnn().dataset().isEmpty()) {
      throw ServingException.invalid("reconstruct on a CNN needs calibration.images (unlabelled images.npy is"
          + " enough; built-in: " + CnnSettings.DATASETS + ")");
    }
    if (r.reconstructs() && r.reconstruct().mode() == ReconstructSettings.Mode.ONE_SHOT) {
      throw ServingException.invalid("a one-shot reconstruction applies to transformers; a CNN is reconstructed"
          + " sequentially");
    }
    ImageSet images = r.needsImages() || r.method().usesCnnSchedule() ? images(r) : null;
    if (images != null) {
      checkShape(dense, images);
      if (!images.labelled() && (r.method().usesCnnSchedule() || r.cnn().recoverSteps() > 0)) {
        throw ServingException.invalid(r.method().name() + (r.cnn().recoverSteps() > 0 ? " with recover" : "")
            + " needs labelled images; this dataset has no " + NpyImages.LABELS + " (wanda-sp scores channels from"
            + " unlabelled images)");
      }
    }
    Pruner.Result c = r.method().pruneCnn(new PruneContext(dense, r, null, images, loader, work, progress));
    var cuts = CutRecord.read(c.model());
    ModelProto pruned = CutRecord.strip(c.model());
    Map<String, Object> details = new LinkedHashMap<>(c.details());
    details.put("parameters_removed", 1 - (double) Pruner.parameters(pruned) / Pruner.parameters(dense));
    if (!deps.notPrunable().isEmpty()) { // a partial result says what it left and why
      details.put("not_prunable", deps.notPrunable().stream().map(NotPrunable::describe).distinct().toList());
    }
    CnnSettings s = r.cnn();
    boolean recalibrate = s.recalibrates() && images != null && images.size() >= 2;
    if (r.reconstructs()) { // BN recalibration → reconstruction → (below) fine-tune and recalibration
      if (recalibrate) {
        pruned = BnRecalibration.run(pruned, images, loader, work).model();
      }
      var rec = CnnReconstruction.run(dense, pruned, cuts, images, r.reconstruct(), loader, work, progress);
      pruned = rec.model();
      details.put("reconstructed", rec.projections());
    }
    // the training graph recalibrates (and fine-tunes) labelled classifiers it can differentiate;
    // any other CNN is recalibrated by forward passes (BnRecalibration: same statistics, no labels)
    boolean trainingGraph = s.recoverSteps() > 0 || (recalibrate && images.labelled() && trainable(pruned));
    if (trainingGraph) {
      // a small dataset recalibrates in batches of all its images (the fine-tune needs full batches)
      int batch = s.recoverSteps() > 0 ? s.recoverBatch() : Math.min(s.recoverBatch(), images.size());
      try (TrainingSession t = TrainingSession.open(pruned, batch, loader, work)) {
        if (s.recoverSteps() > 0) {
          progress.report("training", 0);
          double[] loss = new double[1];
          Trainer.run(t, images, Trainer.Options.of(s.recoverSteps(), s.recoverLr(), r.seed()), (step, lr, res) -> {
            loss[0] = res.loss();
            progress.report("training", (step + 1.0) / s.recoverSteps());
          });
          details.put("recover_final_batch_loss", loss[0]);
        }
        if (recalibrate) { // last: the stored statistics are the pruned (and tuned) network's own
          int layers = t.recalibrate(images, s.recalibrateBatches(), r.seed());
          details.put("bn_recalibrated", Map.of("layers", layers, "batches", s.recalibrateBatches(), "batch", batch));
        }
        pruned = t.export();
      }
    } else if (recalibrate) {
      BnRecalibration.Result b = BnRecalibration.run(pruned, images, loader, work);
      pruned = b.model();
      details.put("bn_recalibrated", Map.of("layers", b.layers(), "images", images.size(), "mode", "forward"));
    }
    return new Pruner.Result(pruned, List.of(), c.channelsPerLayer(), Pruner.parameters(dense),
        Pruner.parameters(pruned), details);
  }

  /** Whether the training graph can be built for {@code m} (opset ≥ 13, one image input, [N, classes] logits). */
  private static boolean trainable(ModelProto m) {
    long opset = m.getOpsetImportList().stream().filter(o -> o.getDomain().isEmpty()).mapToLong(o -> o.getVersion())
        .findFirst().orElse(0);
    return opset >= 13 && m.getGraph().getOutputCount() == 1 && m.getGraph().getOutput(0).getType().getTensorType()
        .getShape().getDimCount() == 2;
  }

  /** The images must fit the model's input [N, C, H, W] and its logits [N, classes ≥ labels]. */
  private static void checkShape(ModelProto m, ImageSet images) {
    String in = TrainingGraph.imagesInput(m);
    var dims = m.getGraph().getInputList().stream().filter(v -> v.getName().equals(in)).findFirst().orElseThrow()
        .getType().getTensorType().getShape().getDimList();
    long[] want = {images.channels(), images.height(), images.width()};
    for (int d = 1; d < Math.min(4, dims.size()); d++) {
      if (dims.size() != 4 || (dims.get(d).hasDimValue() && dims.get(d).getDimValue() != want[d - 1])) {
        throw ServingException.invalid("the images (" + want[0] + "x" + want[1] + "x" + want[2] + ") do not fit"
            + " the model's input '" + in + "' " + dims.stream().map(x -> x.hasDimValue() ? String.valueOf(
                x.getDimValue()) : x.getDimParam()).toList());
      }
    }
    var out = m.getGraph().getOutput(0).getType().getTensorType().getShape();
    if (out.getDimCount() != 2 || (out.getDim(1).hasDimValue() && out.getDim(1).getDimValue() < images.classes())) {
      throw ServingException.invalid("the model's output is not logits [N, >= " + images.classes() + "]");
    }
  }

  private static ImageSet images(PruneRecipe r) throws IOException {
    CnnSettings s = r.cnn();
    if (s.dataset().isEmpty()) {
      throw ServingException.invalid(r.missingImages());
    }
    ImageSet all;
    if (s.dataset().startsWith(CnnSettings.DIRECTORY)) {
      try {
        all = NpyImages.load(Path.of(s.dataset().substring(CnnSettings.DIRECTORY.length())));
      } catch (IOException e) {
        throw ServingException.precondition("the image dataset cannot be read: " + e.getMessage());
      }
    } else if (s.dataset().startsWith(CnnSettings.MODEL)) {
      throw ServingException.invalid(s.dataset() + " names a dataset in a model repository; give its folder as "
          + CnnSettings.DIRECTORY + "<path> here");
    } else {
      if (!FashionMnist.available()) {
        throw ServingException.precondition("the fashion-mnist dataset is not installed on the server"
            + " (apt-get install dataset-fashion-mnist, or set PRUNESERVE_FASHION_MNIST)");
      }
      try {
        all = FashionMnist.train();
      } catch (IOException e) {
        throw ServingException.precondition("the fashion-mnist dataset cannot be read: " + e.getMessage());
      }
    }
    return s.images() == 0 ? all : all.head(s.images());
  }
}
