package dev.pruneserve.variant;

import dev.pruneserve.error.ErrorKind;
import dev.pruneserve.error.ServingException;
import dev.pruneserve.model.ModelRegistry;
import dev.pruneserve.onnx.proto.Onnx.ModelProto;
import dev.pruneserve.pruning.criteria.Pruner;
import dev.pruneserve.pruning.methods.PruneMethods;
import dev.pruneserve.session.SessionLoader;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CancellationException;
import org.jboss.logging.Logger;

/**
 * One job's steps on the pruning worker: calibration data → prune (method, validation) → report and
 * optional evaluation → atomic write → load and warm → optional alias. Progress: sampling (self
 * samples) 0–0.1, the pruning step to 0.85, evaluating, writing, loading. A failed or cancelled job
 * leaves nothing stored. Runs on one worker thread at a time.
 */
final class PrunePipeline {
  private static final Logger LOG = Logger.getLogger(PrunePipeline.class);

  private final ModelRegistry registry;
  private final VariantStore store;
  private final AliasService aliases;
  private final SessionLoader loader;
  private final LmInputs inputs;
  private final JobBoard board;
  private volatile Fleet fleet; // null: a single server

  PrunePipeline(ModelRegistry registry, VariantStore store, AliasService aliases, SessionLoader loader,
      JobBoard board) {
    this.registry = registry;
    this.store = store;
    this.aliases = aliases;
    this.loader = loader;
    this.board = board;
    this.inputs = new LmInputs(registry, loader);
  }

  /** Fleet mode: one replica at a time prunes a given variant (the others then load what it stored). */
  void useFleet(Fleet f) {
    fleet = f;
  }

  /** While waiting for the lock: the holder's progress as this job's (false when the job was cancelled). */
  private static boolean followHolder(Fleet fl, String lock, PruneJob job) {
    try {
      fl.progressOf(lock).ifPresent(p -> job.report("waiting (replica " + p.replica() + ": " + p.phase() + ")",
          p.fraction()));
      return true;
    } catch (CancellationException e) {
      return false;
    }
  }

  /** The parent read for pruning with its external data; a file that does not hold it → FAILED_PRECONDITION. */
  private static dev.pruneserve.graph.ModelFiles.Loaded readParent(Path file) throws IOException {
    try {
      return dev.pruneserve.graph.ModelFiles.read(file);
    } catch (IllegalArgumentException e) {
      throw ServingException.precondition("the model cannot be read for pruning: " + e.getMessage());
    }
  }

  /** @param recipe the recipe record of the manifest (identity, data hashes, calibration digest) */
  void run(PruneJob job, PruneService.Spec spec, Path parentFile, String parentSha, Map<String, Object> recipe) {
    long t0 = System.nanoTime();
    Optional<Fleet.Held> held = Optional.empty();
    try {
      Fleet fl = fleet;
      if (fl != null) { // the lock is named by the variant id: the same request on two replicas runs once
        job.report("waiting", 0);
        String lock = "variant/" + job.variantName();
        held = fl.lock(lock, () -> job.cancelRequested() || !followHolder(fl, lock, job));
        if (held.isEmpty()) {
          throw new CancellationException("cancelled while another replica held the variant's lock");
        }
        job.attach(new FleetProgress(fl, lock));
        Optional<VariantManifest> built = store.read(job.variantName());
        if (built.isPresent()) { // another replica finished it while this one waited
          registry.load(built.get().name());
          if (!spec.activateAs().isEmpty()) {
            aliases.set(spec.activateAs(), built.get().name(), Optional.empty());
          }
          LOG.infof("variant %s was pruned by another replica; loaded it", built.get().name());
          board.end(job, () -> job.succeed(built.get(), true));
          return;
        }
      }
      // external data read, Constant-node and Transpose(initializer) weights as initializers (ModelFiles.read)
      dev.pruneserve.graph.ModelFiles.Loaded parent = readParent(parentFile);
      ModelProto dense = parent.model();
      dev.pruneserve.graph.NativeHazards.Report hazards = dev.pruneserve.graph.NativeHazards.analyse(dense);
      if (!hazards.safe()) { // calibration and validation would run it on inputs nobody checked
        throw ServingException.precondition("model '" + spec.model() + "' cannot be pruned: "
            + hazards.why());
      }
      PruneMethods.Family family = PruneMethods.family(dense);
      List<int[]> calibration = spec.recipe().needsTokens() && family == PruneMethods.Family.TRANSFORMER
          ? inputs.calibration(spec, dense, parentFile, f -> job.report("tokenizing", 0), f -> job.report("sampling",
              0.1 * f))
          : null;
      double base = spec.calibration().samples() == null ? 0 : 0.1;
      Pruner.Result r = PruneMethods.apply(dense, family, spec.recipe(), calibration, loader, (phase, f) -> job.report(
          phase, base + (0.85 - base) * PruneMethods.overall(spec.recipe().method(), phase, f)));
      long pruneMs = (System.nanoTime() - t0) / 1_000_000;
      job.report("writing", 0.88);
      Map<String, Object> report = new LinkedHashMap<>();
      report.putAll(PruneMethods.widths(family, r));
      report.put("labels", spec.recipe().labels());
      report.put("prune_ms", pruneMs);
      if (!r.details().isEmpty()) {
        report.put("details", r.details());
      }
      if (!spec.evaluationTexts().isEmpty()) {
        job.report("evaluating", 0.86);
        report.put("quality", inputs.evaluate(spec, dense, parentFile, r.model(), f -> job.report("evaluating",
            0.86 + 0.02 * f))); // a cancel stops it before the next window
      }
      // the parent's repository folder and version: a checkpoint folder's model file lives in the cache
      Path parentDir = registry.repository().modelDir(spec.model());
      String parentVersion = registry.repository().versions(spec.model()).entrySet().stream()
          .filter(e -> e.getValue().equals(parentFile)).map(e -> Long.toString(e.getKey())).findFirst()
          .orElse(parentFile.getParent().getFileName().toString());
      VariantManifest unsealed = new VariantManifest(job.variantName(), job.variantName().substring(spec.model()
          .length() + 1), spec.model(), parentVersion, parentSha, recipe, report, "", r.parametersBefore(),
          r.parametersAfter(), 0, Instant.now().toString());
      if (job.cancelRequested()) {
        throw new CancellationException("cancelled before writing");
      }
      // a parent with external data (or a large model) gives a variant with its own model.onnx.data
      VariantManifest m = store.write(unsealed, r.model(), parent.externalData(), parentDir, registry.repository()
          .isCheckpoint(spec.model()) ? registry.repository().config(spec.model()) : null);
      job.report("loading", 0.93);
      registry.load(m.name());
      if (!spec.activateAs().isEmpty()) {
        aliases.set(spec.activateAs(), m.name(), Optional.empty());
      }
      LOG.infof("variant %s ready in %d ms (%d -> %d parameters)", m.name(), (System.nanoTime() - t0) / 1_000_000,
          m.parametersBefore(), m.parametersAfter());
      board.end(job, () -> job.succeed(m, false));
    } catch (CancellationException e) {
      LOG.infof("prune job %s (%s) cancelled", job.id(), job.variantName());
      board.end(job, () -> job.fail(new ServingException(ErrorKind.CANCELLED, "prune job " + job.id()
          + " was cancelled"), true));
    } catch (ServingException e) {
      board.end(job, () -> job.fail(e, false));
    } catch (IllegalArgumentException e) { // a model structure or option the algorithms refuse, named by them
      board.end(job, () -> job.fail(ServingException.invalid(e.getMessage()), false));
    } catch (UnsupportedOperationException e) { // e.g. an op without a gradient rule in this model
      board.end(job, () -> job.fail(ServingException.precondition(e.getMessage()), false));
    } catch (IOException | RuntimeException e) {
      LOG.errorf(e, "prune job %s (%s) failed", job.id(), job.variantName());
      board.end(job, () -> job.fail(new ServingException(ErrorKind.INTERNAL, "pruning failed: " + e.getMessage()),
          false));
    } finally {
      held.ifPresent(Fleet.Held::close);
    }
  }
}
