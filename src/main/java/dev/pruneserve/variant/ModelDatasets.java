package dev.pruneserve.variant;

import dev.pruneserve.error.ServingException;
import dev.pruneserve.pruning.ifso.CnnSettings;
import dev.pruneserve.pruning.methods.PruneRecipe;
import dev.pruneserve.repository.ModelRepository;
import dev.pruneserve.train.NpyImages;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;

/**
 * Image datasets kept beside a model: a request names {@code model:<folder>}, which is the folder
 * {@code datasets/<folder>/} of the model's repository folder, holding {@code images.npy} and
 * {@code labels.npy} ({@link NpyImages}). Resolved when a prune request arrives: the job gets the
 * absolute folder; the variant's recipe keeps the name plus the sha256 of both files, so changed
 * data makes a different variant. Stateless.
 */
final class ModelDatasets {
  /** The recipe to run (dataset as {@code dir:<path>}) and the data's sha256 ({@code null}: not a model dataset). */
  record Resolved(PruneRecipe recipe, String sha256) {}

  private ModelDatasets() {}

  static Resolved resolve(ModelRepository repo, String model, PruneRecipe r) {
    String name = r.cnn().dataset();
    if (!name.startsWith(CnnSettings.MODEL)) {
      return new Resolved(r, null);
    }
    String folder = name.substring(CnnSettings.MODEL.length());
    Path dir = repo.modelDir(model).resolve("datasets").resolve(folder).toAbsolutePath().normalize();
    Path images = dir.resolve(NpyImages.IMAGES);
    Path labels = dir.resolve(NpyImages.LABELS);
    if (!Files.isRegularFile(images) || !Files.isRegularFile(labels)) {
      throw ServingException.notFound("no dataset '" + name + "': put " + NpyImages.IMAGES + " and "
          + NpyImages.LABELS + " into datasets/" + folder + "/ of model '" + model + "' in the repository");
    }
    try {
      MessageDigest md = MessageDigest.getInstance("SHA-256");
      for (Path f : new Path[] {images, labels}) {
        try (InputStream in = Files.newInputStream(f)) {
          byte[] buf = new byte[1 << 16];
          for (int n; (n = in.read(buf)) > 0; ) {
            md.update(buf, 0, n);
          }
        }
      }
      return new Resolved(r.withCnn(r.cnn().withDataset(CnnSettings.DIRECTORY + dir)),
          HexFormat.of().formatHex(md.digest()));
    } catch (IOException | java.security.NoSuchAlgorithmException e) {
      throw ServingException.precondition("the dataset '" + name + "' of model '" + model + "' cannot be read: "
          + e.getMessage());
    }
  }
}
