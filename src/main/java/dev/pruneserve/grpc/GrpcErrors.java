package dev.pruneserve.grpc;

import dev.pruneserve.error.ServingException;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import java.util.function.Supplier;
import org.jboss.logging.Logger;

/**
 * The one place where failures become gRPC statuses. A {@link ServingException} keeps its kind and
 * message; anything else is our bug: logged with its stack trace and answered INTERNAL with a
 * generic message (never UNKNOWN, never a class name).
 */
final class GrpcErrors {
  private static final Logger LOG = Logger.getLogger(GrpcErrors.class);

  private GrpcErrors() {}

  static StatusRuntimeException toStatus(Throwable t) {
    if (t instanceof StatusRuntimeException sre) {
      return sre;
    }
    if (t instanceof ServingException se) {
      return Status.fromCode(Status.Code.valueOf(se.kind().name()))
          .withDescription(se.getMessage()).asRuntimeException();
    }
    if (t instanceof OutOfMemoryError) { // the request needed more memory than the server has left
      LOG.errorf("out of memory while serving a request: %s", t.getMessage());
      return Status.RESOURCE_EXHAUSTED.withDescription("the server ran out of memory for this request; retry"
          + " later or send a smaller one").asRuntimeException();
    }
    LOG.error("internal error while serving a request", t);
    return Status.INTERNAL.withDescription("internal server error; see the server log").asRuntimeException();
  }

  /** Runs a server-streaming {@code body} (which sends its messages) and completes or fails the call. */
  static <T> void stream(StreamObserver<T> observer, Runnable body) {
    assert !io.vertx.core.Context.isOnEventLoopThread() : "gRPC service method ran on the event loop";
    try {
      body.run();
    } catch (RuntimeException | Error e) {
      observer.onError(toStatus(e));
      return;
    }
    observer.onCompleted();
  }

  /**
   * Completes a unary call with {@code body}'s result or its mapped status. Must run on a worker
   * thread (the services are {@code @Blocking}); with {@code -ea}, as in the tests, running on a
   * Vert.x event loop fails the call.
   */
  static <T> void unary(StreamObserver<T> observer, Supplier<T> body) {
    assert !io.vertx.core.Context.isOnEventLoopThread() : "gRPC service method ran on the event loop";
    T result;
    try {
      result = body.get();
    } catch (RuntimeException | Error e) {
      observer.onError(toStatus(e));
      return;
    }
    observer.onNext(result);
    observer.onCompleted();
  }
}
