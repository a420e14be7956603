package dev.pruneserve.variant;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.pruneserve.onnx.proto.Onnx.ModelProto;
import dev.pruneserve.repository.AtomicFiles;
import dev.pruneserve.repository.FileHashes;
import dev.pruneserve.repository.ModelConfigFile;
import dev.pruneserve.repository.ModelFileWriter;
import dev.pruneserve.repository.ModelRepository;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.stream.Stream;
import org.jboss.logging.Logger;

/**
 * Variants on disk, as ordinary model folders of the repository: {@code <root>/<parent>@<id>/}
 * with {@code 1/model.onnx}, the parent's config and tokenizer files, and {@code variant.json}.
 * A variant is built in a hidden staging folder, every file forced to disk, then the folder is
 * renamed into place in one step: readers (the repository, a restart) see all of it or nothing.
 * Thread-safe for distinct variant names; the caller serialises work on one name.
 */
public final class VariantStore {
  private static final Logger LOG = Logger.getLogger(VariantStore.class);
  static final String STAGING = ".staging-";
  static final String QUARANTINE = ".quarantine";
  private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  private final ModelRepository repository;
  private volatile Fleet fleet; // null: a single server

  public VariantStore(ModelRepository repository) {
    this.repository = repository;
  }

  /** What a variant of a checkpoint folder takes from it: the tokenizer and generation files only. */
  static final java.util.Set<String> TOKENIZER_FILES = java.util.Set.of("tokenizer.json", "tokenizer_config.json",
      "generation_config.json", "special_tokens_map.json", "chat_template.jinja", "chat_template.json",
      "tokenizer.model", "vocab.json", "merges.txt", "added_tokens.json");

  /** Writes a complete variant of a plain model folder; fails if one with that name already exists. */
  public void write(VariantManifest m, byte[] model, Path parentDir) throws IOException {
    write(m, model, parentDir, null);
  }

  /**
   * Writes a complete variant; fails if one with that name already exists. A checkpoint parent
   * ({@code checkpointSettings} non-null: a Hugging Face folder) gives its tokenizer files but not
   * its weights or its checkpoint config; the variant's config.json holds those settings instead,
   * so the variant is a plain model folder.
   */
  public void write(VariantManifest m, byte[] model, Path parentDir, ModelConfigFile checkpointSettings)
      throws IOException {
    write(m, dir -> AtomicFiles.write(dir.resolve(ModelRepository.MODEL_FILE), model), parentDir,
        checkpointSettings);
  }

  /**
   * As above for a model in memory, written streamed ({@link ModelFileWriter}: with its own
   * {@code model.onnx.data} when {@code external} or when it is too large to be inline); the
   * manifest's model sha256 and file bytes are taken from the written files.
   *
   * @return the manifest as stored
   */
  public VariantManifest write(VariantManifest m, ModelProto model, boolean external, Path parentDir,
      ModelConfigFile checkpointSettings) throws IOException {
    return write(m, dir -> ModelFileWriter.write(model, dir.resolve(ModelRepository.MODEL_FILE), external), parentDir,
        checkpointSettings);
  }

  /** What writes a variant's model files into its (staging) version folder. */
  private interface ModelWriter {
    void writeTo(Path versionDir) throws IOException;
  }

  /** The one write: staging folder, model files, parent files, manifest (sealed when it has no sha256), rename. */
  @SuppressWarnings("try") // the lock is held for the block, never read
  private VariantManifest write(VariantManifest m, ModelWriter model, Path parentDir,
      ModelConfigFile checkpointSettings) throws IOException {
    Path root = repository.root();
    Path target = root.resolve(m.name());
    if (Files.exists(target)) { // ids are content hashes: another writer (replica) stored the same variant
      String name = m.name();
      return read(name).orElseThrow(() -> new IOException("variant " + name + " already exists, unreadable"));
    }
    Path staging = root.resolve(STAGING + m.name() + "-" + UUID.randomUUID());
    try (StagingLock lock = StagingLock.hold(staging, owner())) {
      Path version = Files.createDirectories(staging.resolve("1"));
      model.writeTo(version);
      if (m.modelSha256().isEmpty()) { // sealed from the files as written (model.onnx and its data file)
        long bytes;
        try (Stream<Path> files = Files.list(version)) {
          bytes = files.mapToLong(f -> f.toFile().length()).sum();
        }
        m = new VariantManifest(m.name(), m.variantId(), m.parentModel(), m.parentVersion(), m.parentSha256(),
            m.recipe(), m.report(), new FileHashes().model(version.resolve(ModelRepository.MODEL_FILE)),
            m.parametersBefore(), m.parametersAfter(), bytes, m.createdAt());
      }
      try (Stream<Path> files = Files.list(parentDir)) {
        for (Path f : (Iterable<Path>) files::iterator) {
          String n = f.getFileName().toString();
          boolean checkpointFile = checkpointSettings != null && !TOKENIZER_FILES.contains(n);
          if (Files.isRegularFile(f) && !n.equals(VariantManifest.FILE) && !checkpointFile) {
            AtomicFiles.copy(f, staging.resolve(f.getFileName().toString()));
            force(staging.resolve(f.getFileName().toString()));
          }
        }
      }
      if (checkpointSettings != null) {
        AtomicFiles.write(staging.resolve(ModelRepository.CONFIG_FILE), JSON.writeValueAsBytes(checkpointSettings));
      }
      AtomicFiles.write(staging.resolve(VariantManifest.FILE), JSON.writeValueAsBytes(m));
      try {
        Files.move(staging, target, StandardCopyOption.ATOMIC_MOVE);
      } catch (java.nio.file.FileAlreadyExistsException | java.nio.file.DirectoryNotEmptyException e) {
        Optional<VariantManifest> first = read(m.name()); // another replica's rename came first
        if (first.isEmpty()) {
          throw e;
        }
        LOG.infof("variant %s was stored by another writer first; keeping theirs", m.name());
        return first.get();
      }
      return m;
    } finally {
      deleteTree(staging);
    }
  }

  public Optional<VariantManifest> read(String name) {
    Path f = repository.root().resolve(name).resolve(VariantManifest.FILE);
    if (!name.contains("@") || !Files.isRegularFile(f)) {
      return Optional.empty();
    }
    try {
      return Optional.of(JSON.readValue(f.toFile(), VariantManifest.class));
    } catch (IOException e) {
      return Optional.empty();
    }
  }

  /** Every complete variant, sorted by name. */
  public List<VariantManifest> list() {
    List<VariantManifest> out = new ArrayList<>();
    for (String name : repository.modelNames()) {
      read(name).ifPresent(out::add);
    }
    return out;
  }

  /** Removes a variant folder (renamed away first, so it disappears from the repository at once). */
  @SuppressWarnings("try") // the lock is held for the block, never read
  public void delete(String name) throws IOException {
    Path dir = repository.root().resolve(name);
    Path trash = repository.root().resolve(STAGING + "deleted-" + UUID.randomUUID());
    try (StagingLock lock = StagingLock.hold(trash, owner())) {
      Files.move(dir, trash, StandardCopyOption.ATOMIC_MOVE);
      deleteTree(trash);
    }
  }

  /**
   * Start-up recovery: removes staging folders left by an interrupted write (only those whose
   * lock no live writer holds: {@link StagingLock}) and stale {@code .tmp-*.part} files, and moves every
   * variant whose manifest is unreadable or whose model does not hash to the manifest's sha256 into
   * {@code .quarantine/} with a log line, so it is never served. Returns the names quarantined.
   */
  public List<String> recover() throws IOException {
    Path root = repository.root();
    List<String> quarantined = new ArrayList<>();
    if (!Files.isDirectory(root)) {
      return quarantined;
    }
    try (Stream<Path> dirs = Files.list(root)) {
      for (Path d : (Iterable<Path>) dirs::iterator) {
        String n = d.getFileName().toString();
        if (n.startsWith(STAGING) && Files.isDirectory(d)) {
          if (abandoned(d)) { // no live writer holds its lock, in this or another process or replica
            LOG.warnf("removing the incomplete variant write %s", n);
            deleteTree(d);
            StagingLock.removeLockFile(d);
          } else {
            LOG.infof("leaving %s: a writer is still working on it", n);
          }
        } else if (n.startsWith(STAGING) && n.endsWith(StagingLock.SUFFIX)) {
          StagingLock.removeIfOrphaned(d);
        } else if (n.startsWith(".tmp-") && n.endsWith(".part") && AtomicFiles.isStale(d)) {
          LOG.warnf("removing the interrupted file write %s", n);
          Files.deleteIfExists(d);
        } else if (n.contains("@") && !intact(d)) {
          Path q = root.resolve(QUARANTINE).resolve(n + "-" + System.currentTimeMillis());
          Files.createDirectories(q.getParent());
          Files.move(d, q, StandardCopyOption.ATOMIC_MOVE);
          LOG.errorf("variant %s is corrupt or incomplete; moved to %s and not served", n, q);
          quarantined.add(n);
        }
      }
    }
    return quarantined;
  }

  /** Fleet mode: staging folders carry this replica's owner tag, and recovery asks the fleet. */
  public void useFleet(Fleet f) {
    fleet = f;
  }

  private String owner() {
    Fleet f = fleet;
    return f == null ? "" : f.ownerTag();
  }

  /** No live writer: the OS lock is free and (in fleet mode) the owner's lease is gone. */
  private boolean abandoned(Path staging) throws IOException {
    if (!StagingLock.abandoned(staging)) {
      return false;
    }
    Fleet f = fleet;
    String tag = StagingLock.owner(staging);
    return f == null || tag.isEmpty() || !f.ownerAlive(tag);
  }

  private boolean intact(Path dir) {
    Optional<VariantManifest> m = read(dir.getFileName().toString());
    Path model = dir.resolve("1").resolve(ModelRepository.MODEL_FILE);
    try {
      return m.isPresent() && Files.isRegularFile(model) && new FileHashes().model(model).equals(m.get().modelSha256());
    } catch (IOException e) {
      return false;
    }
  }

  private static void force(Path file) throws IOException {
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
      ch.force(true);
    }
  }

  static void deleteTree(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> all = Files.walk(dir)) {
      for (Path p : (Iterable<Path>) all.sorted(Comparator.reverseOrder())::iterator) {
        Files.deleteIfExists(p);
      }
    } catch (java.io.UncheckedIOException e) { // another process removed part of it at the same time
      if (!(e.getCause() instanceof java.nio.file.NoSuchFileException)) {
        throw e.getCause();
      }
    }
  }
}
