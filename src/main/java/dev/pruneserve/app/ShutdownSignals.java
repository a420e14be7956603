package dev.pruneserve.app;

import io.quarkus.runtime.LaunchMode;
import io.quarkus.runtime.Quarkus;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import org.jboss.logging.Logger;

/**
 * SIGTERM and SIGINT drain the server before the JVM starts its shutdown hooks. The JVM runs its
 * hooks concurrently, and ONNX Runtime's Java binding registers one that releases the native
 * environment: with the default signal handling a request still running then crashes the JVM
 * (SIGSEGV in libonnxruntime, measured with a streaming generation). So on either signal (normal
 * launch only; dev and test modes keep the default): {@link ServerLifecycle#drain}, then exit
 * through Quarkus with status 0. If requests are still running when the drain timeout has passed,
 * the process halts with status 1 without running the hooks, rather than crash under those requests.
 */
@ApplicationScoped
public class ShutdownSignals {
  private static final Logger LOG = Logger.getLogger(ShutdownSignals.class);

  void install(@Observes StartupEvent ev, ServerLifecycle lifecycle) {
    if (LaunchMode.current() != LaunchMode.NORMAL) {
      return;
    }
    ClassLoader app = Thread.currentThread().getContextClassLoader(); // the signal thread has the system one
    for (String name : new String[] {"TERM", "INT"}) {
      OsSignals.handle(name, () -> {
        Thread t = new Thread(() -> drainAndExit(lifecycle, name), "pruneserve-sig" + name);
        t.setContextClassLoader(app);
        t.start(); // a signal handler must return at once
      });
    }
  }

  private static void drainAndExit(ServerLifecycle lifecycle, String signal) {
    LOG.infof("SIG%s: draining before exit", signal);
    int busy;
    try {
      busy = lifecycle.drain();
    } catch (RuntimeException | Error e) {
      LOG.errorf(e, "SIG%s: the drain failed", signal);
      busy = -1;
    }
    if (busy != 0) {
      LOG.errorf("SIG%s: %s; halting without running shutdown hooks", signal,
          busy < 0 ? "the drain did not complete"
              : busy + " session(s) still running a request after the drain timeout");
      Runtime.getRuntime().halt(1);
    }
    Quarkus.asyncExit(0);
  }
}
