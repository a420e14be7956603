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
 * version folders and an optional {@code <root>/<model>/config.json}. Read-only; thread-safe.
 */
public final class ModelRepository {
  public static final String MODEL_FILE = "model.onnx";
  public static final String CONFIG_FILE = "config.json";

  private final Path root;
  private final ObjectMapper json = new ObjectMapper();

  public ModelRepository(Path root) {
    this.root = root.toAbsolutePath().normalize();
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
    return out;
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

  /** The model's config.json, or {@link ModelConfigFile#DEFAULT} when absent. */
  public ModelConfigFile config(String name) {
    Path file = modelDir(name).resolve(CONFIG_FILE);
    if (!Files.isRegularFile(file)) {
      return ModelConfigFile.DEFAULT;
    }
    try {
      return json.readValue(file.toFile(), ModelConfigFile.class);
    } catch (IOException e) {
      String why = e instanceof com.fasterxml.jackson.core.JsonProcessingException j
          ? j.getOriginalMessage() + (j.getLocation() == null ? "" : " at line " + j.getLocation().getLineNr())
          : e.getMessage();
      throw ServingException.precondition("invalid " + name + "/" + CONFIG_FILE + ": " + why);
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
