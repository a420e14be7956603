package dev.pruneserve.grpc;

import dev.pruneserve.config.ServerConfig;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor.MethodType;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.quarkus.grpc.GlobalInterceptor;
import io.quarkus.runtime.ShutdownEvent;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.interceptor.Interceptor;
import java.util.concurrent.atomic.AtomicInteger;
import org.jboss.logging.Logger;

/**
 * Counts unary and server-streaming calls in flight (the ones the server ends) until grpc-java
 * reports them complete (all messages sent) or cancelled, so that shutdown waits for their last
 * messages before Quarkus stops the gRPC server, which cancels what is still open. The drain of
 * sessions ({@code ServerLifecycle}) ends when the last request releases its model; this waits, after it, for the responses. grpc.* services and client- or
 * bidi-streaming calls (open as long as the client likes) are not counted. Thread-safe.
 */
@ApplicationScoped
@GlobalInterceptor
public class InFlightCalls implements ServerInterceptor {
  private static final Logger LOG = Logger.getLogger(InFlightCalls.class);
  private final AtomicInteger open = new AtomicInteger();
  private final Object ended = new Object(); // notified whenever a counted call ends

  @Override
  public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
      ServerCallHandler<Q, R> next) {
    MethodType type = call.getMethodDescriptor().getType();
    if (call.getMethodDescriptor().getFullMethodName().startsWith("grpc.")
        || (type != MethodType.UNARY && type != MethodType.SERVER_STREAMING)) {
      return next.startCall(call, headers);
    }
    open.incrementAndGet();
    return CallEnd.start(next, call, headers, () -> { // CallEnd runs this once per call
      if (open.decrementAndGet() == 0) {
        synchronized (ended) {
          ended.notifyAll();
        }
      }
    });
  }

  /** After the session drain (a later observer priority), before Quarkus stops the gRPC server. */
  void awaitCalls(@Observes @Priority(Interceptor.Priority.APPLICATION + 600) ShutdownEvent ev, ServerConfig config,
      dev.pruneserve.model.Readiness readiness) throws InterruptedException {
    // the drain's single deadline (what the session drain left of it); the full timeout if none ran
    java.time.Duration budget = readiness.drainRemaining().isZero() && readiness.isReady()
        ? config.shutdown().drainTimeout() : readiness.drainRemaining();
    long end = System.nanoTime() + budget.toNanos();
    synchronized (ended) {
      long left;
      while (open.get() > 0 && (left = end - System.nanoTime()) > 0) {
        ended.wait(Math.max(1, left / 1_000_000));
      }
    }
    if (open.get() > 0) {
      LOG.warnf("shutdown: %d call(s) still open at the drain deadline (%s in all); the gRPC server cancels"
          + " them", open.get(), config.shutdown().drainTimeout());
    }
  }
}
