package dev.pruneserve.repository;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pruneserve.error.ErrorKind;
import dev.pruneserve.error.ServingException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.NavigableMap;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * A Triton-style model repository on disk: {@code <root>/<model>/<version>/model.onnx} with numeric
 * version folders and an optional {@code <root>/<model>/config.json}. A folder without version
 * folders whose {@code config.json} is a checkpoint's (a Hugging Face folder copied as it is) is
 * served as version 1 of what {@link CheckpointImport} converts it to; pruneserve's own settings
 * for it then live in {@code pruneserve.json} (same keys), over the checkpoint's defaults.
 * Read-only; thread-safe.
 */
public final class ModelRepository {
  public static final String MODEL_FILE = "model.onnx";
  public static final String CONFIG_FILE = "config.json";
  /** pruneserve's settings in a checkpoint folder, whose config.json is the checkpoint's. */
  public static final String SETTINGS_FILE = "pruneserve.json";

  private final Path root;
  private final CheckpointImport checkpoints;
  private final ObjectMapper json = new ObjectMapper();

  public ModelRepository(Path root) {
    this(root, CheckpointImport.NONE);
  }

  public ModelRepository(Path root, CheckpointImport checkpoints) {
    this.root = root.toAbsolutePath().normalize();
    this.checkpoints = checkpoints;
  }

  public Path root() {
    return root;
  }

  /** Names of the model folders, sorted. Folders with invalid names are skipped. */
  public List<String> modelNames() {
    if (!Files.isDirectory(root)) {
      return List.of();
    }
    try (Stream<Path> s = Files.list(root)) {
      return s.filter(Files::isDirectory)
          .map(p -> p.getFileName().toString())
          .filter(n -> !n.startsWith("."))
          .filter(ModelRepository::validName)
          .sorted()
          .toList();
    } catch (IOException e) {
      throw new ServingException(ErrorKind.INTERNAL, "cannot list model repository " + root, e);
    }
  }

  public boolean contains(String name) {
    return Files.isDirectory(modelDir(name));
  }

  /** Version number to model file, for every numeric folder holding a {@code model.onnx}. */
  public NavigableMap<Long, Path> versions(String name) {
    Path dir = modelDir(name);
    NavigableMap<Long, Path> out = new TreeMap<>();
    if (!Files.isDirectory(dir)) {
      throw ServingException.notFound("model '" + name + "' is not in the repository");
    }
    try (Stream<Path> s = Files.list(dir)) {
      s.filter(Files::isDirectory)
          .filter(p -> versionFolder(name, p.getFileName().toString()))
          .filter(p -> Files.isRegularFile(p.resolve(MODEL_FILE)))
          .forEach(p -> out.put(Long.parseLong(p.getFileName().toString()), p.resolve(MODEL_FILE)));
    } catch (IOException e) {
      throw ServingException.precondition("cannot read the folder of model '" + name + "'; see the server log");
    }
    if (out.isEmpty() && checkpoints.recognises(dir)) {
      out.put(1L, checkpoints.modelFile(dir));
    }
    return out;
  }

  /**
   * Whether the model's folder is a checkpoint served through {@link CheckpointImport}: no version
   * folder, and a checkpoint's config.json and weights (a folder with {@code 1/model.onnx} is a
   * plain model folder whatever its config.json says).
   */
  public boolean isCheckpoint(String name) {
    return checkpoint(modelDir(name));
  }

  private boolean checkpoint(Path dir) {
    try (Stream<Path> s = Files.list(dir)) {
      if (s.anyMatch(p -> ModelNames.isVersion(p.getFileName().toString()) && Files.isDirectory(p))) {
        return false;
      }
    } catch (IOException e) {
      return false;
    }
    return checkpoints.recognises(dir);
  }

  /**
   * Whether a folder name is a version; digit-only names that are not (leading zeros, more than 18
   * digits) are ignored with a warning, once per folder, so "007" is never served as 7 silently.
   */
  private static boolean versionFolder(String model, String folder) {
    if (ModelNames.isVersion(folder)) {
      return true;
    }
    if (folder.matches("[0-9]+") && IGNORED.add(model + "/" + folder)) {
      org.jboss.logging.Logger.getLogger(ModelRepository.class).warnf("model '%s': folder '%s' is not a version"
          + " (versions are 0 or 1-18 digits without leading zeros); ignored", model, folder);
    }
    return false;
  }

  private static final java.util.Set<String> IGNORED = java.util.concurrent.ConcurrentHashMap.newKeySet();

  /**
   * The model's config.json, or {@link ModelConfigFile#DEFAULT} when absent; for a checkpoint
   * folder, its {@code pruneserve.json} over the checkpoint's defaults.
   */
  public ModelConfigFile config(String name) {
    Path dir = modelDir(name);
    if (checkpoint(dir)) {
      ModelConfigFile defaults = checkpoints.defaults(dir);
      Path settings = dir.resolve(SETTINGS_FILE);
      return Files.isRegularFile(settings) ? read(name, settings).over(defaults) : defaults;
    }
    Path file = dir.resolve(CONFIG_FILE);
    if (!Files.isRegularFile(file)) {
      return ModelConfigFile.DEFAULT;
    }
    return read(name, file);
  }

  private ModelConfigFile read(String name, Path file) {
    try {
      ModelConfigFile config = json.readValue(file.toFile(), ModelConfigFile.class);
      String problem = config.problem();
      if (problem != null) {
        throw ServingException.precondition("invalid " + name + "/" + file.getFileName() + ": " + problem);
      }
      return config;
    } catch (IOException e) {
      String why = e instanceof com.fasterxml.jackson.core.JsonProcessingException j
          ? j.getOriginalMessage() + (j.getLocation() == null ? "" : " at line " + j.getLocation().getLineNr())
          : e.getMessage();
      throw ServingException.precondition("invalid " + name + "/" + file.getFileName() + ": " + why);
    }
  }

  public Path modelDir(String name) {
    Path dir = root.resolve(ModelNames.requireValid(name)).normalize();
    if (!dir.getParent().equals(root)) {
      throw ServingException.invalid("model name escapes the repository: " + name);
    }
    return dir;
  }

  private static boolean validName(String n) {
    try {
      ModelNames.requireValid(n);
      return true;
    } catch (ServingException e) {
      return false;
    }
  }
}
