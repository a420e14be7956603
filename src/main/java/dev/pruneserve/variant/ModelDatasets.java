package dev.pruneserve.variant;

import dev.pruneserve.error.ServingException;
import dev.pruneserve.pruning.ifso.CnnSettings;
import dev.pruneserve.pruning.methods.PruneRecipe;
import dev.pruneserve.repository.ModelRepository;
import dev.pruneserve.train.NpyImages;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Image datasets kept beside a model: a request names {@code model:<folder>}, which is the folder
 * {@code datasets/<folder>/} of the model's repository folder, holding {@code images.npy} and
 * {@code labels.npy} ({@link NpyImages}). Resolved when a prune request arrives: the job gets the
 * absolute folder; the variant's recipe keeps the name plus the sha256 of both files
 * ({@code images_sha256}, {@code labels_sha256}), so changed data makes a different variant.
 * Stateless.
 */
final class ModelDatasets {
  /** Hashes a file (sha256, hex). */
  interface Hasher {
    String sha256(Path file) throws IOException;
  }

  /** The recipe to run (dataset as {@code dir:<path>}) and the hashes for the recipe record (empty: not a model dataset). */
  record Resolved(PruneRecipe recipe, Map<String, String> hashes) {}

  private ModelDatasets() {}

  static Resolved resolve(ModelRepository repo, String model, PruneRecipe r, Hasher hasher) {
    String name = r.cnn().dataset();
    if (!name.startsWith(CnnSettings.MODEL)) {
      return new Resolved(r, Map.of());
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
      Map<String, String> hashes = new LinkedHashMap<>();
      hashes.put("images_sha256", hasher.sha256(images));
      hashes.put("labels_sha256", hasher.sha256(labels));
      return new Resolved(r.withCnn(r.cnn().withDataset(CnnSettings.DIRECTORY + dir)), hashes);
    } catch (IOException e) {
      throw ServingException.precondition("the dataset '" + name + "' of model '" + model + "' cannot be read: "
          + e.getMessage());
    }
  }
}
