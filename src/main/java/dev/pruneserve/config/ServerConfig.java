package dev.pruneserve.config;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;

/** pruneserve's own settings ({@code pruneserve.*} in application.properties or env vars). */
@ConfigMapping(prefix = "pruneserve")
public interface ServerConfig {
  Repository repository();

  Ort ort();

  Variants variants();

  /**
   * Largest gRPC request accepted, in bytes (default 256 MiB); wired to
   * {@code quarkus.grpc.server.max-inbound-message-size}. Larger requests get RESOURCE_EXHAUSTED.
   */
  @WithDefault("268435456")
  long maxMessageBytes();

  /** Model repository. */
  interface Repository {
    /** Folder laid out as {@code <model>/<version>/model.onnx}. */
    @WithDefault("models")
    String path();

    /** {@code explicit}: load/unload RPCs allowed; {@code none}: fixed set, RPCs refused. */
    @WithDefault("explicit")
    ControlMode controlMode();

    /** Load every model found at start (always true in mode {@code none}). */
    @WithDefault("true")
    boolean loadAtStartup();

    /**
     * Put the fixture models (stories15m, minilm) into the repository at start, fetching and converting
     * them on first use into the fixture cache.
     */
    @WithDefault("true")
    boolean fixtures();

    /** Write the generated demo model into an empty repository at start. */
    @WithDefault("true")
    boolean demoIfEmpty();
  }

  /** Pruned variants ({@code <model>@<id>}): the loaded-variant cache. */
  interface Variants {
    /**
     * Bytes that loaded variants may hold (measured RSS growth at load, at least the weights' size);
     * least recently served variants are unloaded beyond it. Pinned variants and alias targets do
     * not count and are never unloaded for space.
     */
    @WithDefault("2147483648")
    long cacheBytes();

    /** A request for a variant that is not loaded (evicted, or never loaded) loads it first. */
    @WithDefault("true")
    boolean loadOnDemand();

    /**
     * {@code sync}: an alias change is on disk (fsync) before it takes effect; {@code write-behind}:
     * it takes effect at once and is persisted in the background (a crash can lose the latest
     * changes; sub-millisecond swaps).
     */
    @WithDefault("sync")
    String aliasDurability();
  }

  enum ControlMode {
    NONE,
    EXPLICIT
  }

  Security security();

  Fleet fleet();

  /** Fleet mode: replicas coordinated through etcd (unset endpoints = a single server). */
  interface Fleet {
    /**
     * etcd client URLs, comma-separated (e.g. {@code http://etcd:2379}). Set: the alias table lives in
     * etcd and every replica follows it, prunes take a fleet lock per variant id, staging folders name
     * their owner; {@code aliases.json} and {@code variants.alias-durability} are not used.
     */
    java.util.Optional<java.util.List<String>> etcdEndpoints();

    /** Prefix of every key pruneserve writes in etcd (several fleets can share one etcd). */
    @WithDefault("/pruneserve/")
    String prefix();

    /** This replica's name in the fleet; default: the host name and process id. */
    java.util.Optional<String> replicaId();

    /** TTL of the replica's etcd lease: a killed replica's locks are released this long after. */
    @WithDefault("10s")
    java.time.Duration leaseTtl();

    /** How long a call to etcd may take before the request gets UNAVAILABLE. */
    @WithDefault("3s")
    java.time.Duration timeout();
  }

  Limits limits();

  Shutdown shutdown();

  /** Graceful shutdown: not ready at once, prune jobs cancelled, in-flight requests drained. */
  interface Shutdown {
    /** How long in-flight inference and generation may take to finish before sessions are closed. */
    @WithDefault("30s")
    java.time.Duration drainTimeout();
  }

  /** Admission limits (beyond them: RESOURCE_EXHAUSTED). */
  interface Limits {
    /** Prune jobs running or queued at once (identical requests share one job and count once). */
    @WithDefault("4")
    int maxPruneJobs();

    /** Largest max_new_tokens a Generate request may ask for (INVALID_ARGUMENT beyond). */
    @WithDefault("4096")
    int maxNewTokens();

    /** Largest prompt in UTF-8 bytes (INVALID_ARGUMENT beyond; the model's context applies too). */
    @WithDefault("262144")
    int maxPromptBytes();

    /**
     * How long a request waits for its model while another caller loads it (an evicted variant
     * reloading on demand, a RepositoryModelLoad); UNAVAILABLE after that.
     */
    @WithDefault("120s")
    java.time.Duration loadWait();

    /**
     * Largest ModelInfer response in tensor bytes (default 256 MiB, the request limit):
     * RESOURCE_EXHAUSTED naming this setting beyond; checked from the output shapes before running
     * when they are static or named like the request's input dims, else from the outputs before
     * anything is sent.
     */
    @WithDefault("268435456")
    long maxResponseBytes();

    /**
     * Bytes of responses handed to gRPC whose calls have not completed, over all calls (default
     * 1 GiB): bounds what clients that do not read (HTTP/2 window 0) can make the server hold. A
     * response beyond it ends its call with RESOURCE_EXHAUSTED naming this setting.
     */
    @WithDefault("1073741824")
    long maxUnreadResponseBytes();

    /**
     * gRPC connections older than this get GOAWAY (clients reconnect for new calls), and after
     * {@link #maxConnectionAgeGrace} more they are closed with whatever they still hold — the
     * reclaim for calls whose clients never read. Unset = connections live as long as their clients
     * like (the default: prune progress streams may run for hours).
     */
    java.util.Optional<java.time.Duration> maxConnectionAge();

    /** How long calls may finish after a connection's GOAWAY (see {@link #maxConnectionAge}). */
    @WithDefault("5m")
    java.time.Duration maxConnectionAgeGrace();
  }

  /**
   * Bearer tokens ({@code authorization: Bearer <token>}). Management calls (model load/unload, the
   * Pruning service's mutating calls) need one of {@code managementTokens} when it is set; every
   * other call except health and reflection needs one of {@code inferenceTokens} or a management
   * token when {@code inferenceTokens} is set. Unset = open (the default). The {@code *TokensFile}
   * settings add tokens from a file (one per line), re-read when it changes (rotation without a
   * restart); a configured file turns the check on even while it is empty.
   */
  interface Security {
    java.util.Optional<java.util.List<String>> managementTokens();

    java.util.Optional<java.nio.file.Path> managementTokensFile();

    java.util.Optional<java.util.List<String>> inferenceTokens();

    java.util.Optional<java.nio.file.Path> inferenceTokensFile();

    /**
     * Whether {@code /q/metrics} (model and variant names, traffic) needs a bearer token, a
     * management or inference one; 401 without. Off by default, as Prometheus scrapes usually run
     * inside the cluster; turn it on when the HTTP port is reachable from outside.
     */
    @WithDefault("false")
    boolean protectMetrics();
  }

  /** ONNX Runtime session settings. */
  interface Ort {
    @WithDefault("cpu")
    Device device();

    /** When CUDA cannot be enabled: true = warn and run on CPU, false = fail the load. */
    @WithDefault("true")
    boolean cudaFallback();

    @WithDefault("0")
    int cudaDeviceId();

    /** Intra-op threads per session; 0 = ORT's default (one per core). */
    @WithDefault("0")
    int intraOpThreads();

    /** Inter-op threads per session; 0 = ORT's default. */
    @WithDefault("0")
    int interOpThreads();

    /**
     * Whether idle intra-op threads spin-wait for work ({@code session.intra_op.allow_spinning}).
     * Spinning lowers latency on a dedicated machine but steals cores from the gRPC threads when
     * cores are few; see docs/benchmarks.md.
     */
    @WithDefault("false")
    boolean allowSpinning();

    /** Graph optimisation level: none, basic, extended, all. */
    @WithDefault("all")
    OptLevel optimizationLevel();

    /**
     * Longest one inference may run (ModelInfer, validation, calibration passes); a run past it is
     * stopped through ONNX Runtime's terminate flag and answered DEADLINE_EXCEEDED (e.g. a Loop
     * whose trip count comes from the request).
     */
    @WithDefault("10m")
    java.time.Duration runTimeout();
  }

  enum Device {
    CPU,
    CUDA
  }

  enum OptLevel {
    NONE,
    BASIC,
    EXTENDED,
    ALL
  }
}
