package dev.pruneserve.concurrent;

import java.util.concurrent.ThreadFactory;

/**
 * Daemon threads with a name, for the server's background workers (schedulers, batchers, timers,
 * writers): none of them may keep the JVM alive at exit, since shutdown drains and stops them
 * explicitly. Stateless.
 */
public final class DaemonThreads {
  private DaemonThreads() {}

  /** A factory whose every thread is a daemon called {@code name}. */
  public static ThreadFactory named(String name) {
    return r -> {
      Thread t = new Thread(r, name);
      t.setDaemon(true);
      return t;
    };
  }

  /** Starts {@code body} on a new daemon thread called {@code name}. */
  public static Thread start(Runnable body, String name) {
    Thread t = named(name).newThread(body);
    t.start();
    return t;
  }
}
