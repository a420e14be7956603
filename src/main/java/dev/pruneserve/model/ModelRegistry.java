package dev.pruneserve.model;

import dev.pruneserve.error.ServingException;
import dev.pruneserve.repository.ModelConfigFile;
import dev.pruneserve.repository.ModelNames;
import dev.pruneserve.repository.ModelRepository;
import dev.pruneserve.session.ModelSession;
import dev.pruneserve.session.SessionLoader;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.jboss.logging.Logger;

/**
 * The models being served: which versions of which model route to which session handle.
 *
 * <p>Threading: {@link #acquire} is lock-free and safe from any thread. {@link #load} and {@link
 * #unload} serialise per model and block the caller while sessions are built; a reload keeps the
 * old versions serving until the new ones are warm, then switches atomically and retires the old
 * handles (their sessions close after the last lease). A failed load keeps what was serving.
 */
public final class ModelRegistry {
  private static final Logger LOG = Logger.getLogger(ModelRegistry.class);
  private static final int ACQUIRE_ATTEMPTS = 8;
  private static final String UNLOADED = "unloaded";

  private final ModelRepository repository;
  private final SessionBuilder builder;
  private final java.util.function.UnaryOperator<String> router;
  private final Map<String, ModelSlot> slots = new ConcurrentHashMap<>();
  private final Map<String, ModelStats> stats = new ConcurrentHashMap<>();
  private volatile LoadObserver observer = LoadObserver.NONE;
  /** How long a request waits for a load of its model that another caller is running. */
  private volatile java.time.Duration loadWait = java.time.Duration.ofSeconds(120);

  /** @param warmup runs one inference on a fresh session; throws to fail the load */
  public ModelRegistry(ModelRepository repository, SessionLoader loader,
      java.util.function.BiConsumer<ModelSession, ModelConfigFile> warmup) {
    this(repository, loader, warmup, name -> name);
  }

  /**
   * @param router maps a requested name to the model that serves it (aliases); identity for model
   *     names; read on every request, so it must be fast and thread-safe
   */
  /** Sessions retired by {@link #unloadAll}, watched by {@link #awaitDrained}. */
  private final java.util.List<ModelHandle> draining = new java.util.concurrent.CopyOnWriteArrayList<>();
  /** Set by {@link #unloadAll}: nothing loads any more. */
  private volatile boolean closing;

  public ModelRegistry(ModelRepository repository, SessionLoader loader,
      java.util.function.BiConsumer<ModelSession, ModelConfigFile> warmup,
      java.util.function.UnaryOperator<String> router) {
    this.repository = repository;
    this.builder = new SessionBuilder(repository, loader, warmup);
    this.router = router;
  }

  public ModelRepository repository() {
    return repository;
  }

  /** How long a request for a model that is LOADING waits for that load (pruneserve.limits.load-wait). */
  public void setLoadWait(java.time.Duration wait) {
    this.loadWait = wait;
  }

  /** Installs the observer (the variant cache); set once at start, before requests arrive. */
  public void observe(LoadObserver o) {
    this.observer = o;
  }

  /** Loads (or reloads) every version of {@code name}; returns once they serve. */
  public void load(String name) {
    ModelNames.requireValid(name);
    if (closing) {
      throw ServingException.unavailable("the server is shutting down; '" + name + "' is not loaded");
    }
    if (!repository.contains(name)) {
      throw ServingException.notFound("model '" + name + "' is not in the repository");
    }
    ModelSlot slot = slots.computeIfAbsent(name, ModelSlot::new);
    long bytes = loadLocked(name, slot);
    observer.loaded(name, bytes);
  }

  /** Builds and switches under the slot's lock; returns the measured bytes of the new sessions. */
  private long loadLocked(String name, ModelSlot slot) {
    long rssBefore = ProcessMemory.rssBytes();
    slot.lifecycle.lock();
    try {
      if (closing) { // re-checked under the lock: unloadAll may have passed this slot already
        throw ServingException.unavailable("the server is shutting down; '" + name + "' is not loaded");
      }
      if (slot.served == null) {
        slot.set(ModelState.LOADING, "loading");
      }
      ModelSlot.Served fresh;
      try {
        fresh = builder.build(name);
      } catch (RuntimeException e) {
        String why = e instanceof ServingException ? e.getMessage() : "internal error; see the server log";
        if (!(e instanceof ServingException)) {
          LOG.errorf(e, "load of model '%s' failed", name);
        }
        if (slot.served == null) {
          slot.set(ModelState.UNAVAILABLE, "load failed: " + why);
        } else {
          slot.reason = "reload failed, still serving the previous load: " + why;
        }
        LOG.warnf("load of model '%s' failed: %s", name, why);
        throw e;
      }
      ModelSlot.Served old = slot.served;
      slot.served = fresh;
      slot.set(ModelState.READY, "");
      fresh.versions().keySet().forEach(v -> statsFor(name, Long.toString(v)));
      if (old != null) {
        old.retireAll();
      }
      LOG.infof("model '%s' READY, versions %s", name, fresh.versions().keySet());
      long files = fresh.versions().values().stream().mapToLong(h -> h.session().sizeBytes()).sum();
      long rssDelta = ProcessMemory.rssBytes() - rssBefore;
      return Math.max(files, rssDelta); // RSS delta when measurable, never below the weights' bytes
    } finally {
      slot.lifecycle.unlock();
    }
  }

  /** Stops routing to {@code name}; sessions close once in-flight requests have released them. */
  public void unload(String name) {
    ModelNames.requireValid(name);
    ModelSlot slot = slots.get(name);
    if (slot == null) {
      if (!repository.contains(name)) {
        throw ServingException.notFound("model '" + name + "' is not in the repository");
      }
      return;
    }
    if (unloadLocked(name, slot)) {
      observer.unloaded(name);
    }
  }

  private boolean unloadLocked(String name, ModelSlot slot) {
    slot.lifecycle.lock();
    try {
      ModelSlot.Served old = slot.served;
      if (old == null) {
        return false;
      }
      slot.set(ModelState.UNLOADING, "unloading");
      slot.served = null;
      old.retireAll(); // sessions close when their last in-flight request releases them
      slot.set(ModelState.UNAVAILABLE, UNLOADED);
      LOG.infof("model '%s' unloaded", name);
      return true;
    } finally {
      slot.lifecycle.unlock();
    }
  }

  /** Unloads every model and refuses later (on-demand) loads; used at shutdown. */
  public void unloadAll() {
    closing = true;
    slots.values().forEach(slot -> {
      ModelSlot.Served served = slot.served;
      if (served != null) {
        draining.addAll(served.versions().values());
      }
    });
    slots.keySet().forEach(this::unload);
  }

  /**
   * After {@link #unloadAll}: waits until every in-flight request on the unloaded sessions has
   * finished (their sessions closed) or {@code timeout} passed; returns the sessions still busy.
   */
  public int awaitDrained(java.time.Duration timeout) throws InterruptedException {
    CompletableFuture<?>[] all = draining.stream().map(ModelHandle::whenClosed)
        .toArray(CompletableFuture[]::new);
    try {
      CompletableFuture.allOf(all).get(timeout.toNanos(), TimeUnit.NANOSECONDS);
    } catch (TimeoutException | ExecutionException e) {
      // some are still busy (or a close failed): count them below
    }
    return (int) draining.stream().filter(h -> !h.closed()).count();
  }

  /**
   * A lease on {@code name}/{@code version} ({@code ""} = latest loaded version).
   *
   * @throws ServingException NOT_FOUND for unknown models or versions, UNAVAILABLE when not loaded
   */
  public Lease acquire(String name, String version) {
    for (int i = 0; i < ACQUIRE_ATTEMPTS; i++) {
      Optional<Lease> lease = tryAcquireOrLoad(name, version);
      if (lease.isPresent()) {
        observer.served(lease.get().model());
        return lease.get();
      }
    }
    throw ServingException.unavailable("model '" + name + "' is being swapped; retry");
  }

  /**
   * Leases the resolved handle, loading the model first when it is in the repository, not loaded
   * (never loaded, or unloaded/evicted — not after a failed load) and the observer allows an
   * on-demand load. The lease on a model loaded here is taken under its lifecycle lock, before the
   * observer sees the load, so an eviction that load triggers cannot unload it under this request.
   */
  private Optional<Lease> tryAcquireOrLoad(String requested, String version) {
    try {
      return resolve(requested, version).tryAcquire();
    } catch (ServingException e) {
      String name = router.apply(requested);
      ModelSlot slot = slots.get(name);
      boolean unloaded = slot == null ? repository.contains(name)
          : slot.served == null && slot.state == ModelState.UNAVAILABLE && UNLOADED.equals(slot.reason);
      // a load or an unload (an eviction) in progress: wait for it under the lifecycle lock, then load
      boolean loading = slot != null && slot.served == null
          && (slot.state == ModelState.LOADING || slot.state == ModelState.UNLOADING);
      if (closing || e.kind() != dev.pruneserve.error.ErrorKind.UNAVAILABLE || !(unloaded || loading)) {
        throw e;
      }
      boolean mayLoad = observer.loadOnDemand(name);
      if (!mayLoad && !loading) {
        throw e;
      }
      ModelSlot fresh = slots.computeIfAbsent(name, ModelSlot::new);
      long bytes = -1; // stays -1 when another request loaded it first or the load failed
      if (!lockWithin(fresh, loadWait)) { // another caller's load is still running
        throw ServingException.unavailable("model '" + requested + "' is still loading after " + loadWait
            + " (pruneserve.limits.load-wait); retry");
      }
      try {
        // load only a model nobody loaded or tried to: after a failed load the waiters get its reason
        boolean untried = fresh.state == ModelState.UNAVAILABLE
            && (UNLOADED.equals(fresh.reason) || "not loaded".equals(fresh.reason));
        if (fresh.served == null && mayLoad && !closing && untried) {
          bytes = loadLocked(name, fresh);
        }
        return resolve(requested, version).tryAcquire();
      } finally {
        fresh.lifecycle.unlock();
        if (bytes >= 0) {
          observer.loaded(name, bytes);
        }
      }
    }
  }

  /** Threads waiting for {@code name}'s load or unload to finish (diagnostics, tests). */
  int waitingFor(String name) {
    ModelSlot slot = slots.get(name);
    return slot == null ? 0 : slot.lifecycle.getQueueLength();
  }

  private static boolean lockWithin(ModelSlot slot, java.time.Duration wait) {
    try {
      return slot.lifecycle.tryLock(wait.toNanos(), java.util.concurrent.TimeUnit.NANOSECONDS);
    } catch (InterruptedException ie) {
      Thread.currentThread().interrupt();
      throw ServingException.unavailable("interrupted while waiting for a model to load");
    }
  }

  /** Metadata of a loaded version ({@code ""} = latest). */
  public ModelView describe(String requested, String version) {
    ModelHandle h = resolve(requested, version);
    String name = router.apply(requested);
    ModelSlot.Served served = slots.get(name).served;
    List<String> versions = new ArrayList<>();
    ModelConfigFile config = ModelConfigFile.DEFAULT;
    if (served != null) {
      served.versions().keySet().forEach(v -> versions.add(Long.toString(v)));
      config = served.config();
    }
    ModelSession s = h.session();
    return new ModelView(name, h.version(), versions, config, s.inputs(), s.outputs(), s.sizeBytes());
  }

  /** True when {@code name} (and {@code version}, if given) can serve now. */
  public boolean isReady(String name, String version) {
    try {
      resolve(name, version);
      return true;
    } catch (ServingException e) {
      return false;
    }
  }

  /** One row per loaded version, or one version-less row per model that is not loaded. */
  public List<IndexEntry> index() {
    TreeSet<String> names = new TreeSet<>(repository.modelNames());
    names.addAll(slots.keySet());
    List<IndexEntry> out = new ArrayList<>();
    for (String name : names) {
      ModelSlot slot = slots.get(name);
      ModelSlot.Served served = slot == null ? null : slot.served;
      String target = router.apply(name);
      if (!target.equals(name)) { // a folder created after an alias of that name: requests go to the target
        out.add(new IndexEntry(name, "", ModelState.UNAVAILABLE, shadowed(name, target)));
      } else if (served == null) {
        out.add(slot == null
            ? new IndexEntry(name, "", ModelState.UNAVAILABLE, "not loaded")
            : new IndexEntry(name, "", slot.state, slot.reason));
      } else {
        for (Long v : served.versions().keySet()) {
          out.add(new IndexEntry(name, Long.toString(v), slot.state, slot.reason));
        }
      }
    }
    return out;
  }

  /** Model folders that an alias of the same name hides, each with why (for a start-up warning). */
  public List<String> shadowedFolders() {
    return repository.modelNames().stream().filter(n -> !router.apply(n).equals(n))
        .map(n -> shadowed(n, router.apply(n))).toList();
  }

  private static String shadowed(String name, String target) {
    return "model folder '" + name + "' is hidden by the alias '" + name + "' (-> '" + target + "'): requests for '"
        + name + "' are served by '" + target + "'; delete the alias or rename the folder";
  }

  /** A version's statistics and the bytes its session holds now (0 when not loaded). */
  public record VersionStats(ModelStats stats, long sizeBytes) {}

  /** Statistics per version; {@code name} and {@code version} empty = all. */
  public List<VersionStats> statistics(String name, String version) {
    if (!name.isEmpty()) {
      resolve(name, version);
    }
    return stats.values().stream()
        .filter(s -> name.isEmpty() || s.name().equals(name))
        .filter(s -> version.isEmpty() || s.version().equals(version))
        .sorted((a, b) -> (a.name() + "/" + a.version()).compareTo(b.name() + "/" + b.version()))
        .map(s -> new VersionStats(s, loadedBytes(s.name(), s.version())))
        .toList();
  }

  private long loadedBytes(String name, String version) {
    ModelSlot slot = slots.get(name);
    ModelSlot.Served served = slot == null ? null : slot.served;
    ModelHandle h = served == null || !ModelNames.isVersion(version) ? null
        : served.versions().get(Long.parseLong(version));
    return h == null ? 0 : h.session().sizeBytes();
  }

  ModelStats statsFor(String name, String version) {
    return stats.computeIfAbsent(name + "/" + version, k -> new ModelStats(name, version));
  }

  private ModelHandle resolve(String requested, String version) {
    ModelNames.requireValid(requested);
    String name = router.apply(requested);
    ModelSlot slot = slots.get(name);
    ModelSlot.Served served = slot == null ? null : slot.served;
    if (served == null) {
      if (slot == null && !repository.contains(name)) {
        throw ServingException.notFound("unknown model '" + name + "'");
      }
      if (closing) {
        throw ServingException.unavailable("the server is shutting down; send '" + name + "' requests to another"
            + " replica");
      }
      String why = slot == null ? "not loaded" : slot.state + " (" + slot.reason + ")";
      throw ServingException.unavailable(
          "model '" + name + "' is not ready: " + why + "; load it with RepositoryModelLoad");
    }
    if (version == null || version.isEmpty()) {
      return served.versions().lastEntry().getValue();
    }
    ModelHandle h = ModelNames.isVersion(version) ? served.versions().get(Long.parseLong(version)) : null;
    if (h == null) {
      throw ServingException.notFound(
          "model '" + name + "' has no version '" + version + "'; loaded versions: "
              + served.versions().keySet());
    }
    return h;
  }
}
