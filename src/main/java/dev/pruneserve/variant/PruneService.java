package dev.pruneserve.variant;

import dev.pruneserve.error.ErrorKind;
import dev.pruneserve.error.ServingException;
import dev.pruneserve.fixtures.FixtureCache;
import dev.pruneserve.model.ModelRegistry;
import dev.pruneserve.model.SessionLoader;
import dev.pruneserve.onnx.proto.Onnx.ModelProto;
import dev.pruneserve.pruning.methods.PruneMethods;
import dev.pruneserve.pruning.methods.PruneRecipe;
import dev.pruneserve.pruning.Pruner;
import dev.pruneserve.repository.ModelNames;
import dev.pruneserve.repository.ModelRepository;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import org.jboss.logging.Logger;

/**
 * Prunes served models into variants: validates a request, derives the variant id from (parent
 * content, canonical recipe), reuses a stored variant or joins a running job for the same id, else
 * runs a job on the pruning worker: prune (PruneMethods: calibrate, score, surgery, validate) →
 * write the variant atomically → load and warm it → optionally point an alias at it. A failed or
 * cancelled job leaves nothing behind. Thread-safe.
 */
public final class PruneService {
  private static final Logger LOG = Logger.getLogger(PruneService.class);

  /** Pinned variants and who to tell when a pin changes (the cache re-weighs the variant). */
  public record Pins(PinSet set, java.util.function.Consumer<String> changed) {}

  /** A request: parent model and version ("" = latest), recipe, calibration, alias to activate ("" = none). */
  public record Spec(String model, String version, PruneRecipe recipe, CalibrationInput calibration,
      List<String> evaluationTexts, String activateAs) {}

  private final ModelRegistry registry;
  private final VariantStore store;
  private final AliasService aliases;
  private final SessionLoader loader;
  private final ExecutorService worker;
  private final LmInputs inputs;
  private final Map<String, PruneJob> running = new ConcurrentHashMap<>();
  private final Map<String, PruneJob> jobs = new ConcurrentHashMap<>();
  private final Map<String, String> fileHashes = new ConcurrentHashMap<>();
  private final Pins pins;
  private final io.micrometer.core.instrument.MeterRegistry meters;
  private final int maxJobs;

  public PruneService(ModelRegistry registry, VariantStore store, AliasService aliases, SessionLoader loader,
      ExecutorService worker, Pins pins, io.micrometer.core.instrument.MeterRegistry meters, int maxJobs) {
    this.maxJobs = maxJobs;
    this.registry = registry;
    this.store = store;
    this.aliases = aliases;
    this.loader = loader;
    this.worker = worker;
    this.pins = pins;
    this.meters = meters;
    this.inputs = new LmInputs(registry, loader);
  }

  /** Asks every running or queued job to stop (shutdown); each ends CANCELLED, leaving nothing. */
  public int cancelAll() {
    synchronized (running) {
      running.values().forEach(PruneJob::cancel);
      return running.size();
    }
  }

  /** Waits until no job runs or is queued, or {@code timeout} passed; true when idle. */
  public boolean awaitIdle(java.time.Duration timeout) throws InterruptedException {
    long end = System.nanoTime() + timeout.toNanos();
    while (!running.isEmpty()) {
      if (System.nanoTime() >= end) {
        return false;
      }
      Thread.sleep(20);
    }
    return true;
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
    if (spec.recipe().needsImages() && spec.recipe().cnn().dataset().isEmpty()) {
      throw ServingException.invalid(spec.recipe().method() + (spec.recipe().cnn().recoverSteps() > 0 ? " with recover"
          : "") + " needs labelled training images: set calibration.images (built-in: "
          + dev.pruneserve.pruning.ifso.CnnSettings.DATASETS + ")");
    }
    if (spec.recipe().needsCalibration() && spec.calibration().isEmpty()) {
      throw ServingException.invalid(spec.recipe().method() + " needs calibration data: give texts, token"
          + " sequences or self_samples in `calibration` (CNNs: calibration.images)");
    }
    if (!spec.activateAs().isEmpty()) {
      aliases.requireAliasName(spec.activateAs());
    }
    ModelDatasets.Resolved data = ModelDatasets.resolve(registry.repository(), spec.model(), spec.recipe(),
        this::sha256);
    Map<String, Object> recipe = new LinkedHashMap<>(spec.recipe().describe());
    recipe.putAll(data.hashes());
    recipe.put("calibration", spec.recipe().needsCalibration() ? spec.calibration().describe() : "none");
    if (!spec.evaluationTexts().isEmpty()) {
      recipe.put("evaluation", new CalibrationInput(spec.evaluationTexts(), List.of()).describe());
    }
    String parentSha = parentHash(parentFile);
    String name = VariantIds.name(spec.model(), VariantIds.id(parentSha, recipe));
    PruneJob job;
    boolean start = false;
    synchronized (running) {
      job = running.get(name);
      if (job == null) {
        job = new PruneJob(UUID.randomUUID().toString().substring(0, 8), name);
        jobs.put(job.id(), job);
        Optional<VariantManifest> existing = store.read(name);
        if (existing.isPresent()) {
          finishReused(job, existing.get(), spec.activateAs());
        } else {
          if (running.size() >= maxJobs) {
            jobs.remove(job.id());
            throw new ServingException(ErrorKind.RESOURCE_EXHAUSTED, running.size() + " prune jobs are running or"
                + " queued, the limit (pruneserve.limits.max-prune-jobs = " + maxJobs + "); retry when one finishes"
                + " or cancel one");
          }
          running.put(name, job);
          start = true;
        }
      }
    }
    job.attach(listener);
    if (start) {
      PruneJob j = job;
      Spec resolved = new Spec(spec.model(), spec.version(), data.recipe(), spec.calibration(), spec.evaluationTexts(),
          spec.activateAs());
      worker.execute(() -> run(j, resolved, parentFile, parentSha, recipe));
    }
    return job;
  }

  public Optional<PruneJob> job(String id) {
    return Optional.ofNullable(jobs.get(id));
  }

  public List<VariantManifest> variants(String parent) {
    return store.list().stream().filter(m -> parent.isEmpty() || m.parentModel().equals(parent)).toList();
  }

  public VariantManifest variant(String name) {
    ModelNames.requireValid(name);
    return store.read(name).orElseThrow(() -> ServingException.notFound("no variant '" + name + "'"));
  }

  /** Unloads and deletes a variant; refused while an alias points at it or a job is writing it. */
  public void delete(String name) {
    variant(name);
    List<String> users = aliases.aliasesOf(name);
    if (!users.isEmpty()) {
      throw ServingException.precondition("variant '" + name + "' is the target of aliases " + users
          + "; point them elsewhere first");
    }
    synchronized (running) {
      if (running.containsKey(name)) {
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
    }
  }

  /**
   * Fraction of the pruning step done when {@code phase} is {@code f} done: phases run in the order
   * calibrating → querying (MINI-LLM) → scoring → validating, with shares that follow their cost.
   */
  static double overall(String method, String phase, double f) {
    String[] phases = {"calibrating", "querying", "scoring", "training", "validating"};
    double[] share = switch (method) {
      case "mini-llm" -> new double[] {0.1, 0.75, 0.1, 0, 0.05};
      case "forward-search" -> new double[] {0.1, 0, 0.85, 0, 0.05};
      case "ifso", "taylor" -> new double[] {0.3, 0, 0.5, 0.15, 0.05}; // taylor: LLM calibrating or CNN scoring
      default -> new double[] {0.5, 0, 0.3, 0.15, 0.05};
    };
    double start = 0;
    for (int i = 0; i < phases.length; i++) {
      if (phases[i].equals(phase)) {
        return start + share[i] * f;
      }
      start += share[i];
    }
    return 0;
  }

  private void run(PruneJob job, Spec spec, Path parentFile, String parentSha, Map<String, Object> recipe) {
    long t0 = System.nanoTime();
    try {
      ModelProto dense = ModelProto.parseFrom(Files.readAllBytes(parentFile));
      List<int[]> calibration = spec.recipe().needsCalibration() && !PruneMethods.isCnn(dense)
          ? inputs.calibration(spec, dense, parentFile, f -> job.report("sampling", 0.1 * f)) : null;
      double base = spec.calibration().samples() == null ? 0 : 0.1;
      Pruner.Result r = PruneMethods.apply(dense, spec.recipe(), calibration, loader,
          (phase, f) -> job.report(phase, base + (0.85 - base) * overall(spec.recipe().method(), phase, f)));
      long pruneMs = (System.nanoTime() - t0) / 1_000_000;
      job.report("writing", 0.88);
      byte[] bytes = r.model().toByteArray();
      Map<String, Object> report = new LinkedHashMap<>();
      report.putAll(PruneMethods.widths(dense, r));
      report.put("prune_ms", pruneMs);
      if (!r.details().isEmpty()) {
        report.put("details", r.details());
      }
      if (!spec.evaluationTexts().isEmpty()) {
        job.report("evaluating", 0.86);
        report.put("quality", inputs.evaluate(spec, dense, parentFile, bytes));
      }
      VariantManifest m = new VariantManifest(job.variantName(), job.variantName().substring(spec.model().length() + 1),
          spec.model(), parentFile.getParent().getFileName().toString(), parentSha, recipe, report,
          VariantIds.sha256Hex(bytes), r.parametersBefore(), r.parametersAfter(), bytes.length, Instant.now().toString());
      if (job.cancelRequested()) {
        throw new CancellationException("cancelled before writing");
      }
      store.write(m, bytes, parentFile.getParent().getParent());
      job.report("loading", 0.93);
      registry.load(m.name());
      if (!spec.activateAs().isEmpty()) {
        aliases.set(spec.activateAs(), m.name(), Optional.empty());
      }
      LOG.infof("variant %s ready in %d ms (%d -> %d parameters)", m.name(), (System.nanoTime() - t0) / 1_000_000,
          m.parametersBefore(), m.parametersAfter());
      end(job, () -> job.succeed(m, false));
    } catch (CancellationException e) {
      LOG.infof("prune job %s (%s) cancelled", job.id(), job.variantName());
      end(job, () -> job.fail(new ServingException(ErrorKind.CANCELLED, "prune job " + job.id() + " was cancelled"),
          true));
    } catch (ServingException e) {
      end(job, () -> job.fail(e, false));
    } catch (IllegalArgumentException e) {
      end(job, () -> job.fail(ServingException.invalid(e.getMessage()), false));
    } catch (UnsupportedOperationException e) { // e.g. an op without a gradient rule in this model
      end(job, () -> job.fail(ServingException.precondition(e.getMessage()), false));
    } catch (IOException | RuntimeException e) {
      LOG.errorf(e, "prune job %s (%s) failed", job.id(), job.variantName());
      end(job, () -> job.fail(new ServingException(ErrorKind.INTERNAL, "pruning failed: " + e.getMessage()), false));
    }
  }

  private void end(PruneJob job, Runnable terminal) {
    synchronized (running) {
      running.remove(job.variantName());
      terminal.run();
    }
    String outcome = job.state().name().toLowerCase(java.util.Locale.ROOT);
    meters.counter("pruneserve_prune_jobs_total", "outcome", outcome).increment();
    meters.timer("pruneserve_prune_job_seconds", "outcome", outcome)
        .record(java.time.Duration.ofNanos((long) (job.elapsedSeconds() * 1e9)));
  }

  private void finishReused(PruneJob job, VariantManifest m, String activateAs) {
    if (!registry.isReady(m.name(), "")) {
      registry.load(m.name());
    }
    if (!activateAs.isEmpty()) {
      aliases.set(activateAs, m.name(), Optional.empty());
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

  /** sha256 of the parent file (cached: {@link #sha256}). */
  private String parentHash(Path file) {
    try {
      return sha256(file);
    } catch (IOException e) {
      throw ServingException.unavailable("cannot read the parent model " + file + ": " + e.getMessage());
    }
  }

  /** sha256 of a file, cached by path, size and modification time. */
  private String sha256(Path file) throws IOException {
    String key = file.toAbsolutePath() + "#" + Files.size(file) + "#" + Files.getLastModifiedTime(file).toMillis();
    try {
      return fileHashes.computeIfAbsent(key, k -> {
        try {
          return FixtureCache.sha256(file);
        } catch (IOException e) {
          throw new java.io.UncheckedIOException(e);
        }
      });
    } catch (java.io.UncheckedIOException e) {
      throw e.getCause();
    }
  }
}
