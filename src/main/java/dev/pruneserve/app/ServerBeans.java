package dev.pruneserve.app;

import dev.pruneserve.cache.VariantCache;
import dev.pruneserve.config.ServerConfig;
import dev.pruneserve.embed.EmbeddingService;
import dev.pruneserve.llm.GenerationService;
import dev.pruneserve.model.InferenceService;
import dev.pruneserve.model.ModelRegistry;
import dev.pruneserve.model.Warmup;
import dev.pruneserve.repository.ModelRepository;
import dev.pruneserve.runtime.OrtRuntime;
import dev.pruneserve.variant.AliasService;
import dev.pruneserve.variant.AliasTable;
import dev.pruneserve.variant.PinSet;
import dev.pruneserve.variant.PruneService;
import dev.pruneserve.variant.VariantStore;
import io.micrometer.core.instrument.MeterRegistry;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Produces;
import java.nio.file.Path;

/** CDI wiring of the plain domain objects; the domain classes themselves know nothing of CDI. */
@ApplicationScoped
public class ServerBeans {

  @Produces
  @jakarta.inject.Singleton
  dev.pruneserve.model.Readiness readiness(jakarta.enterprise.inject.Instance<dev.pruneserve.model.HealthReporter> r) {
    return new dev.pruneserve.model.Readiness(r.stream().toList());
  }

  @Produces
  @ApplicationScoped
  OrtRuntime ortRuntime(ServerConfig config) {
    return new OrtRuntime(config.ort());
  }

  @Produces
  @ApplicationScoped
  ModelRepository modelRepository(ServerConfig config) {
    return new ModelRepository(Path.of(config.repository().path()),
        new dev.pruneserve.checkpoint.HfImport(dev.pruneserve.assets.FixtureCache.defaultCache().root()));
  }

  @Produces
  @ApplicationScoped
  AliasTable aliasTable(ModelRepository repository, ServerConfig config) {
    if (config.fleet().etcdEndpoints().filter(e -> !e.isEmpty()).isPresent()) {
      return AliasTable.inMemory(); // etcd holds the aliases: this replica's routing only
    }
    String d = config.variants().aliasDurability();
    if (!d.equals("sync") && !d.equals("write-behind")) {
      throw new IllegalArgumentException("pruneserve.variants.alias-durability must be sync or write-behind, got " + d);
    }
    try {
      return new AliasTable(repository.root().resolve("aliases.json"),
          d.equals("sync") ? AliasTable.Durability.SYNC : AliasTable.Durability.WRITE_BEHIND);
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException("cannot read the aliases in " + repository.root(), e);
    }
  }

  /** The fleet over etcd when {@code pruneserve.fleet.etcd-endpoints} is set; connected lazily by jetcd. */
  @Produces
  @jakarta.inject.Singleton
  java.util.Optional<dev.pruneserve.variant.Fleet> fleet(ServerConfig config) {
    ServerConfig.Fleet f = config.fleet();
    return f.etcdEndpoints().filter(e -> !e.isEmpty()).map(e -> new dev.pruneserve.etcd.EtcdFleet(
        new dev.pruneserve.etcd.EtcdFleet.Settings(e, f.prefix(), f.replicaId().orElseGet(ServerBeans::replicaName),
            f.leaseTtl(), f.timeout())));
  }

  void closeFleet(@jakarta.enterprise.inject.Disposes java.util.Optional<dev.pruneserve.variant.Fleet> fleet) {
    fleet.ifPresent(dev.pruneserve.variant.Fleet::close);
  }

  private static String replicaName() {
    String host;
    try {
      host = java.net.InetAddress.getLocalHost().getHostName();
    } catch (java.net.UnknownHostException e) {
      host = "replica";
    }
    return host + "-" + ProcessHandle.current().pid();
  }

  @Produces
  @ApplicationScoped
  PinSet pinSet(ModelRepository repository) {
    try {
      return new PinSet(repository.root().resolve("pins.json"));
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException("cannot read the pins in " + repository.root(), e);
    }
  }

  @Produces
  @ApplicationScoped
  VariantCache variantCache(ServerConfig config, AliasTable aliases, PinSet pins, MeterRegistry meters) {
    return new VariantCache(config.variants().cacheBytes(), config.variants().loadOnDemand(),
        name -> pins.contains(name) || aliases.isTarget(name), meters);
  }

  /** The cache observes the registry from the start, so variants loaded at start-up are tracked. */
  @Produces
  @ApplicationScoped
  ModelRegistry modelRegistry(ModelRepository repository, OrtRuntime runtime, AliasTable aliases, VariantCache cache,
      ServerConfig config) {
    ModelRegistry registry = new ModelRegistry(repository, runtime, Warmup::run, aliases::route);
    registry.setLoadWait(config.limits().loadWait());
    cache.attach(registry);
    return registry;
  }

  @Produces
  @ApplicationScoped
  VariantStore variantStore(ModelRepository repository) {
    return new VariantStore(repository);
  }

  @Produces
  @ApplicationScoped
  AliasService aliasService(AliasTable table, ModelRegistry registry, VariantCache cache, MeterRegistry meters) {
    return new AliasService(table, registry, cache::reweigh, meters);
  }

  /** One pruning worker: jobs are CPU-heavy and queue behind each other. */
  @Produces
  @ApplicationScoped
  PruneService pruneService(ModelRegistry registry, VariantStore store, AliasService aliases, OrtRuntime runtime,
      PinSet pins, VariantCache cache, MeterRegistry meters, ServerConfig config) {
    java.util.concurrent.ExecutorService worker = java.util.concurrent.Executors.newSingleThreadExecutor(
        dev.pruneserve.concurrent.DaemonThreads.named("pruneserve-prune"));
    return new PruneService(registry, store, aliases, runtime, worker, new PruneService.Pins(pins, cache::reweigh),
        meters, config.limits().maxPruneJobs());
  }

  @Produces
  @ApplicationScoped
  GenerationService generationService(ModelRegistry registry, MeterRegistry meters, ServerConfig config) {
    return new GenerationService(registry, meters,
        new GenerationService.Limits(config.limits().maxNewTokens(), config.limits().maxPromptBytes()));
  }

  @Produces
  @ApplicationScoped
  EmbeddingService embeddingService(ModelRegistry registry) {
    return new EmbeddingService(registry);
  }

  @Produces
  @ApplicationScoped
  InferenceService inferenceService(ModelRegistry registry, MeterRegistry meters, ServerConfig config) {
    return new InferenceService(registry, meters, config.limits().maxResponseBytes());
  }
}
