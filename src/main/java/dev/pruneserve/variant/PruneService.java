package dev.pruneserve.variant;

import dev.pruneserve.error.ErrorKind;
import dev.pruneserve.error.ServingException;
import dev.pruneserve.model.ModelRegistry;
import dev.pruneserve.pruning.methods.PruneRecipe;
import dev.pruneserve.repository.ModelNames;
import dev.pruneserve.repository.ModelRepository;
import dev.pruneserve.session.SessionLoader;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.function.Consumer;

/**
 * Prunes served models into variants and administers them: validates a request, derives the
 * variant id ({@link VariantIds}: parent content + recipe identity), reuses a stored variant or
 * joins a running job for the same id ({@link JobBoard}), else runs the {@link PrunePipeline} on
 * the pruning worker. Lists, deletes and pins variants. Thread-safe.
 */
public final class PruneService {
  /** Pinned variants and who to tell when a pin changes (the cache re-weighs the variant). */
  public record Pins(PinSet set, Consumer<String> changed) {}

  /** A request: parent model and version ("" = latest), recipe, calibration, alias to activate ("" = none). */
  public record Spec(String model, String version, PruneRecipe recipe, CalibrationInput calibration,
      List<String> evaluationTexts, String activateAs) {}

  private final ModelRegistry registry;
  private final VariantStore store;
  private final AliasService aliases;
  private final ExecutorService worker;
  private final Pins pins;
  private final JobBoard board;
  private final PrunePipeline pipeline;
  private final ContentHashes hashes = new ContentHashes();

  public PruneService(ModelRegistry registry, VariantStore store, AliasService aliases, SessionLoader loader,
      ExecutorService worker, Pins pins, MeterRegistry meters, int maxJobs) {
    this.registry = registry;
    this.store = store;
    this.aliases = aliases;
    this.worker = worker;
    this.pins = pins;
    this.board = new JobBoard(maxJobs, meters);
    this.pipeline = new PrunePipeline(registry, store, aliases, loader, board);
  }

  /** Fleet mode: prunes take the fleet lock of their variant id (see {@link Fleet#lock}). */
  public void useFleet(Fleet f) {
    pipeline.useFleet(f);
  }

  /** Asks every running or queued job to stop (shutdown); each ends CANCELLED, leaving nothing. */
  public int cancelAll() {
    return board.cancelAll();
  }

  /** Waits until no job runs or is queued, or {@code timeout} passed; true when idle. */
  public boolean awaitIdle(Duration timeout) throws InterruptedException {
    return board.awaitIdle(timeout);
  }

  /** Pins (never evicted) or unpins a variant; persisted. */
  public VariantManifest pin(String name, boolean pinned) {
    VariantManifest m = variant(name);
    pins.set().set(name, pinned);
    pins.changed().accept(name);
    return m;
  }

  public boolean isPinned(String name) {
    return pins.set().contains(name);
  }

  /**
   * Starts or joins the job for {@code spec} and attaches {@code listener} to it.
   *
   * @throws ServingException INVALID_ARGUMENT / NOT_FOUND / FAILED_PRECONDITION for bad requests
   */
  public PruneJob prune(Spec spec, PruneJob.Listener listener) {
    Path parentFile = parentFile(spec.model(), spec.version());
    if (spec.evaluationTexts().size() > CalibrationInput.MAX_ITEMS) {
      throw ServingException.invalid("evaluation has " + spec.evaluationTexts().size() + " texts; at most "
          + CalibrationInput.MAX_ITEMS);
    }
    CalibrationInput.requireShort(spec.calibration().texts(), "calibration");
    CalibrationInput.requireShort(spec.evaluationTexts(), "evaluation");
    spec.recipe().requireData(!spec.calibration().isEmpty());
    if (!spec.activateAs().isEmpty()) {
      aliases.requireAliasName(spec.activateAs());
    }
    ModelDatasets.Resolved data = ModelDatasets.resolve(registry.repository(), spec.model(), spec.recipe(),
        hashes::sha256);
    Map<String, Object> recipe = new LinkedHashMap<>(spec.recipe().identity());
    recipe.putAll(data.hashes());
    recipe.put("calibration", spec.recipe().needsTokens() ? spec.calibration().describe() : "none");
    if (!spec.evaluationTexts().isEmpty()) {
      recipe.put("evaluation", new CalibrationInput(spec.evaluationTexts(), List.of()).describe());
    }
    String parentSha = hashes.parent(parentFile);
    String name = VariantIds.name(spec.model(), VariantIds.id(parentSha, recipe));
    JobBoard.Admission a = board.admit(name, () -> store.read(name));
    if (a.stored().isPresent()) {
      finishReused(a.job(), a.stored().get(), spec.activateAs());
    }
    a.job().attach(listener);
    if (a.start()) {
      Spec resolved = new Spec(spec.model(), spec.version(), data.recipe(), spec.calibration(), spec.evaluationTexts(),
          spec.activateAs());
      worker.execute(() -> pipeline.run(a.job(), resolved, parentFile, parentSha, recipe));
    }
    return a.job();
  }

  public Optional<PruneJob> job(String id) {
    return board.job(id);
  }

  public List<VariantManifest> variants(String parent) {
    return store.list().stream().filter(m -> parent.isEmpty() || m.parentModel().equals(parent)).toList();
  }

  public VariantManifest variant(String name) {
    ModelNames.requireValid(name);
    return store.read(name).orElseThrow(() -> ServingException.notFound("no variant '" + name + "'"));
  }

  /**
   * Unloads and deletes a variant; refused while an alias points at it or a job is writing it.
   * Serialised with alias switches ({@link AliasService#exclusive}).
   */
  public void delete(String name) {
    variant(name);
    aliases.exclusive(() -> board.locked(() -> {
      List<String> users = aliases.aliasesOf(name);
      if (!users.isEmpty()) {
        throw ServingException.precondition("variant '" + name + "' is the target of aliases " + users
            + "; point them elsewhere first");
      }
      if (board.isRunning(name)) {
        throw ServingException.precondition("variant '" + name + "' is being written by a prune job");
      }
      if (isPinned(name)) {
        pins.set().set(name, false);
      }
      registry.unload(name);
      try {
        store.delete(name);
      } catch (IOException e) {
        throw new ServingException(ErrorKind.INTERNAL, "cannot delete variant '" + name + "': " + e.getMessage(), e);
      }
      return null;
    }));
  }

  /** A stored variant answers the request: loaded, optionally activated; outside every job lock. */
  private void finishReused(PruneJob job, VariantManifest m, String activateAs) {
    try {
      if (!registry.isReady(m.name(), "")) {
        registry.load(m.name());
      }
      if (!activateAs.isEmpty()) {
        aliases.set(activateAs, m.name(), Optional.empty());
      }
    } catch (ServingException e) {
      job.fail(e, false);
      throw e;
    }
    job.succeed(m, true);
  }

  private Path parentFile(String model, String version) {
    ModelNames.requireValid(model);
    if (model.contains("@")) {
      throw ServingException.invalid("prune a base model, not the variant '" + model + "'");
    }
    ModelRepository repo = registry.repository();
    if (!repo.contains(model)) {
      throw ServingException.notFound("unknown model '" + model + "'");
    }
    NavigableMap<Long, Path> versions = repo.versions(model);
    if (versions.isEmpty()) {
      throw ServingException.precondition("model '" + model + "' has no version with a model.onnx");
    }
    if (version.isEmpty()) {
      return versions.lastEntry().getValue();
    }
    Path p = ModelNames.isVersion(version) ? versions.get(Long.parseLong(version)) : null;
    if (p == null) {
      throw ServingException.notFound("model '" + model + "' has no version '" + version + "'");
    }
    return p;
  }
}
