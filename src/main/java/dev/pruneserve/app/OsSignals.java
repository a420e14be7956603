package dev.pruneserve.app;

import java.lang.reflect.Proxy;

/**
 * Handlers for operating-system signals through the JDK's {@code sun.misc.Signal} (module
 * jdk.unsupported), looked up reflectively: Java has no public signal API, and a compile-time
 * reference is a javac warning that cannot be suppressed (the build treats warnings as errors).
 */
final class OsSignals {
  private OsSignals() {}

  /**
   * Runs {@code handler} on the JVM's signal thread whenever signal {@code name} (e.g. "TERM")
   * arrives; the handler must return at once.
   *
   * @throws IllegalStateException when this JVM offers no signal handling
   */
  static void handle(String name, Runnable handler) {
    try {
      Class<?> signal = Class.forName("sun.misc.Signal");
      Class<?> handlerType = Class.forName("sun.misc.SignalHandler");
      Object sig = signal.getConstructor(String.class).newInstance(name);
      Object h = Proxy.newProxyInstance(handlerType.getClassLoader(), new Class<?>[] {handlerType},
          (p, m, args) -> switch (m.getName()) {
            case "handle" -> {
              handler.run();
              yield null;
            }
            case "hashCode" -> System.identityHashCode(p);
            case "equals" -> p == args[0];
            default -> "signal handler for SIG" + name;
          });
      signal.getMethod("handle", signal, handlerType).invoke(null, sig, h);
    } catch (ReflectiveOperationException e) {
      throw new IllegalStateException("cannot install a handler for SIG" + name + ": " + e, e);
    }
  }
}
