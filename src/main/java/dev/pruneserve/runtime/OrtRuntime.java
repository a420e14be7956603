package dev.pruneserve.runtime;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.providers.OrtCUDAProviderOptions;
import dev.pruneserve.config.ServerConfig;
import dev.pruneserve.error.ServingException;
import dev.pruneserve.model.ProcessMemory;
import dev.pruneserve.session.ModelSession;
import dev.pruneserve.session.SessionLoader;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import org.jboss.logging.Logger;

/**
 * The ONNX Runtime boundary: owns the process-wide {@link OrtEnvironment} and builds sessions with
 * the configured device, threads and optimisation level. Thread-safe. CUDA is enabled in a
 * try/catch (the provider list ORT reports is compiled in, not what works).
 */
public final class OrtRuntime implements SessionLoader {
  private static final Logger LOG = Logger.getLogger(OrtRuntime.class);

  private final OrtEnvironment env = OrtEnvironment.getEnvironment();
  private final ServerConfig.Ort config;
  private final Map<String, SessionCounters> counters = new ConcurrentHashMap<>();
  private final AtomicBoolean cudaWarned = new AtomicBoolean();

  public OrtRuntime(ServerConfig.Ort config) {
    this.config = config;
  }

  @Override
  public ModelSession load(String label, Path file) {
    OrtSession.SessionOptions options = null;
    OrtSession session = null;
    try {
      options = options(label);
      long rssBefore = ProcessMemory.rssBytes();
      session = env.createSession(file.toString(), options);
      // host memory the session took (RSS growth; loads running at the same time blur it), never
      // below the file's bytes
      long bytes = Math.max(Files.size(file), ProcessMemory.rssBytes() - rssBefore);
      SessionCounters c = counters(modelOf(label));
      OrtModelSession loaded = new OrtModelSession(label, env, session, options, bytes, c, config.runTimeout());
      c.opened.incrementAndGet();
      return loaded;
    } catch (OrtException | IOException | RuntimeException e) {
      closeQuietly(session, options);
      if (e instanceof ServingException se) {
        throw se;
      }
      LOG.warnf("cannot load %s from %s: %s", label, file, e.getMessage());
      throw ServingException.precondition("cannot load " + label + ": " + OrtMessages.clean(e.getMessage()));
    }
  }

  /** A CPU runtime outside the server (command-line tools, tests): ALL_OPT, no spinning. */
  public static OrtRuntime cpu(int intraOpThreads) {
    return cpu(intraOpThreads, java.time.Duration.ofMinutes(10));
  }

  /** As {@link #cpu(int)} with another limit on one inference's duration. */
  public static OrtRuntime cpu(int intraOpThreads, java.time.Duration runTimeout) {
    return new OrtRuntime(settings(ServerConfig.Device.CPU, true, intraOpThreads, runTimeout));
  }

  /** Settings for runtimes built outside the server's configuration. */
  public static ServerConfig.Ort settings(ServerConfig.Device device, boolean cudaFallback, int intraOpThreads) {
    return settings(device, cudaFallback, intraOpThreads, java.time.Duration.ofMinutes(10));
  }

  private static ServerConfig.Ort settings(ServerConfig.Device device, boolean cudaFallback, int intraOpThreads,
      java.time.Duration runTimeout) {
    return new ServerConfig.Ort() {
      @Override
      public java.time.Duration runTimeout() {
        return runTimeout;
      }

      @Override
      public ServerConfig.Device device() {
        return device;
      }

      @Override
      public boolean cudaFallback() {
        return cudaFallback;
      }

      @Override
      public int cudaDeviceId() {
        return 0;
      }

      @Override
      public int intraOpThreads() {
        return intraOpThreads;
      }

      @Override
      public int interOpThreads() {
        return 0;
      }

      @Override
      public boolean allowSpinning() {
        return false;
      }

      @Override
      public ServerConfig.OptLevel optimizationLevel() {
        return ServerConfig.OptLevel.ALL;
      }
    };
  }

  /** Counters of every session opened for {@code model} since start. */
  public SessionCounters counters(String model) {
    return counters.computeIfAbsent(model, k -> new SessionCounters());
  }

  private OrtSession.SessionOptions options(String label) throws OrtException {
    OrtSession.SessionOptions o = new OrtSession.SessionOptions();
    try {
      if (config.intraOpThreads() > 0) {
        o.setIntraOpNumThreads(config.intraOpThreads());
      }
      if (config.interOpThreads() > 0) {
        o.setInterOpNumThreads(config.interOpThreads());
      }
      o.addConfigEntry("session.intra_op.allow_spinning", config.allowSpinning() ? "1" : "0");
      o.setOptimizationLevel(switch (config.optimizationLevel()) {
        case NONE -> OrtSession.SessionOptions.OptLevel.NO_OPT;
        case BASIC -> OrtSession.SessionOptions.OptLevel.BASIC_OPT;
        case EXTENDED -> OrtSession.SessionOptions.OptLevel.EXTENDED_OPT;
        case ALL -> OrtSession.SessionOptions.OptLevel.ALL_OPT;
      });
      if (config.device() == ServerConfig.Device.CUDA) {
        addCuda(o, label);
      }
      return o;
    } catch (OrtException | RuntimeException e) {
      o.close();
      throw e;
    }
  }

  private void addCuda(OrtSession.SessionOptions o, String label) {
    try (OrtCUDAProviderOptions cuda = new OrtCUDAProviderOptions(config.cudaDeviceId())) {
      o.addCUDA(cuda);
    } catch (OrtException | RuntimeException | LinkageError e) {
      if (!config.cudaFallback()) {
        throw ServingException.precondition("CUDA requested (pruneserve.ort.device=cuda) but unavailable for "
            + label + ": " + e.getMessage() + "; set pruneserve.ort.cuda-fallback=true to run on CPU");
      }
      if (cudaWarned.compareAndSet(false, true)) {
        LOG.warnf("CUDA requested but unavailable (%s); running on CPU", e.getMessage());
      }
    }
  }

  private static String modelOf(String label) {
    int slash = label.indexOf('/');
    return slash < 0 ? label : label.substring(0, slash);
  }

  private static void closeQuietly(OrtSession session, OrtSession.SessionOptions options) {
    try {
      if (session != null) {
        session.close();
      }
    } catch (OrtException ignored) {
      // best effort on a failed load: the session never served
    }
    if (options != null) {
      options.close();
    }
  }
}
