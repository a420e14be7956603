package dev.pruneserve.app;

import dev.pruneserve.assets.FixtureCache;
import dev.pruneserve.config.ServerConfig;
import dev.pruneserve.embed.MiniLmImport;
import dev.pruneserve.error.ServingException;
import dev.pruneserve.llm.Stories15mImport;
import dev.pruneserve.model.ModelRegistry;
import dev.pruneserve.model.Readiness;
import dev.pruneserve.repository.DemoRepository;
import dev.pruneserve.repository.ModelRepository;
import dev.pruneserve.variant.AliasTable;
import dev.pruneserve.variant.PruneService;
import dev.pruneserve.variant.VariantStore;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;
import org.jboss.logging.Logger;

/** Start: prepare the repository and load its models. Stop: drain, then retire every session. */
@ApplicationScoped
public class ServerLifecycle {
  private static final Logger LOG = Logger.getLogger(ServerLifecycle.class);
  private final ModelRegistry registry;
  private final AliasTable aliases;
  private final dev.pruneserve.variant.AliasService aliasService;
  private final PruneService prune;
  private final ServerConfig config;
  private final Readiness readiness;
  private Integer drained; // guarded by this

  ServerLifecycle(ModelRegistry registry, AliasTable aliases, dev.pruneserve.variant.AliasService aliasService,
      PruneService prune, ServerConfig config, Readiness readiness) {
    this.registry = registry;
    this.aliases = aliases;
    this.aliasService = aliasService;
    this.prune = prune;
    this.config = config;
    this.readiness = readiness;
  }

  void onStart(@Observes StartupEvent ev, ModelRepository repo, VariantStore variants,
      java.util.Optional<dev.pruneserve.variant.Fleet> fleet) {
    // grpc.health.v1 answers NOT_SERVING until the start-up loading below has finished (readiness)
    readiness.set(false);
    try {
      if (config.repository().demoIfEmpty()) {
        DemoRepository.populateIfEmpty(repo);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write the demo model into " + repo.root(), e);
    }
    if (config.repository().fixtures()) {
      try {
        Stories15mImport.installIfAbsent(FixtureCache.defaultCache(), repo.root());
      } catch (IOException | RuntimeException e) {
        LOG.errorf("stories15m is not available: %s", e.getMessage());
      }
      try {
        MiniLmImport.installIfAbsent(FixtureCache.defaultCache(), repo.root());
      } catch (IOException | RuntimeException e) {
        LOG.errorf("minilm is not available: %s", e.getMessage());
      }
      try {
        if (!dev.pruneserve.assets.trained.FashionResNet.installIfCached(FixtureCache.defaultCache(), repo.root())) {
          LOG.infof("fashion-resnet (the trained CNN for IFSO) is not cached; train it once with"
              + " ./mvnw -B -q -Pcnn-fixture process-classes (about 20 minutes on 2 cores)");
        }
      } catch (IOException | RuntimeException e) {
        LOG.errorf("fashion-resnet is not available: %s", e.getMessage());
      }
    }
    fleet.ifPresent(f -> { // before recovery: staging folders of live replicas are left alone
      LOG.infof("fleet mode: replica %s, aliases and prune locks in etcd", f.replicaId());
      variants.useFleet(f);
      prune.useFleet(f);
      aliasService.joinFleet(f); // alias changes go to etcd from the first request on
    });
    try {
      List<String> bad = variants.recover();
      if (!bad.isEmpty()) {
        LOG.errorf("quarantined corrupt variants (not served): %s", bad);
      }
    } catch (IOException e) {
      LOG.errorf("variant recovery in %s failed: %s", repo.root(), e.getMessage());
    }
    try {
      int stale = dev.pruneserve.repository.Scratch.removeStale();
      if (stale > 0) {
        LOG.infof("removed %d scratch folder(s) left by processes that were killed", stale);
      }
    } catch (IOException e) {
      LOG.warnf("stale scratch folders could not be removed: %s", e.getMessage());
    }
    registry.shadowedFolders().forEach(LOG::warn);
    boolean loadAll = config.repository().loadAtStartup()
        || config.repository().controlMode() == ServerConfig.ControlMode.NONE;
    if (loadAll) {
      for (String name : repo.modelNames()) {
        try {
          registry.load(name);
        } catch (ServingException e) {
          LOG.errorf("model '%s' failed to load at start: %s", name, e.getMessage());
        } catch (RuntimeException e) {
          LOG.errorf(e, "model '%s' failed to load at start", name);
        }
      }
    }
    fleet.ifPresent(f -> aliasService.follow(java.time.Duration.ofSeconds(60)));
    LOG.infof("model repository %s: %s", repo.root(), registry.index());
    readiness.set(true);
  }

  /** Quarkus stops (after a signal's drain, that drain is already done): drain if not yet. */
  void onStop(@Observes ShutdownEvent ev) {
    drain();
  }

  /**
   * Graceful shutdown, once (later calls return the first result): not ready (ServerReady false,
   * grpc.health NOT_SERVING) at once, running and queued prune jobs cancelled (they leave nothing),
   * models unloaded so new requests are refused with UNAVAILABLE, then in-flight requests are given
   * {@code pruneserve.shutdown.drain-timeout} to finish before their sessions close.
   *
   * @return the sessions still running a request when the timeout passed (0 = fully drained;
   *     negative: the wait was interrupted)
   */
  public synchronized int drain() {
    if (drained != null) {
      return drained;
    }
    readiness.beginDrain(config.shutdown().drainTimeout()); // one deadline for every wait below and after
    int jobs = prune.cancelAll();
    aliasService.stopFollowing(); // fleet changes would load models again
    aliases.close(); // write-behind: the latest alias changes reach the disk
    registry.unloadAll();
    int busy = -1;
    try {
      int running = registry.awaitDrained(java.time.Duration.ZERO);
      // cancelled jobs stop at their next progress report and remove what they staged
      boolean jobsDone = prune.awaitIdle(readiness.drainRemaining());
      busy = registry.awaitDrained(readiness.drainRemaining());
      if (jobsDone && busy == 0) {
        dev.pruneserve.repository.Scratch.clear(); // else the next start removes what is left
      }
      LOG.infof("shutdown: %d prune job(s) cancelled%s, %d session(s) serving a request at the start, %s", jobs,
          jobsDone ? "" : " (still stopping)", running, busy == 0 ? "all in-flight requests finished"
              : busy + " session(s) still busy after " + config.shutdown().drainTimeout());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (IOException e) {
      LOG.warnf("shutdown: the scratch folder could not be emptied: %s", e.getMessage());
    }
    drained = busy;
    return busy;
  }

  /** True once start-up loading has finished and until shutdown begins. */
  public boolean isReady() {
    return readiness.isReady();
  }
}
