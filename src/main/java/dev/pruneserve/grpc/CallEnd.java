package dev.pruneserve.grpc;

import io.grpc.ForwardingServerCallListener;
import io.grpc.ServerCall;

/**
 * A server-call listener that runs {@code end} after the call completes (grpc-java is done sending)
 * or is cancelled, whichever comes, once. Thread-safe as grpc-java's listener contract.
 */
final class CallEnd {
  private CallEnd() {}

  /** Starts {@code call} on {@code next}, running {@code end} once when it ends (or if it fails to start). */
  static <Q, R> ServerCall.Listener<Q> start(io.grpc.ServerCallHandler<Q, R> next, ServerCall<Q, R> call,
      io.grpc.Metadata headers, Runnable end) {
    ServerCall.Listener<Q> listener;
    try {
      listener = next.startCall(call, headers);
    } catch (RuntimeException e) {
      end.run();
      throw e;
    }
    return after(listener, end);
  }

  private static <Q> ServerCall.Listener<Q> after(ServerCall.Listener<Q> listener, Runnable end) {
    java.util.concurrent.atomic.AtomicBoolean done = new java.util.concurrent.atomic.AtomicBoolean();
    Runnable once = () -> {
      if (done.compareAndSet(false, true)) {
        end.run();
      }
    };
    return new ForwardingServerCallListener.SimpleForwardingServerCallListener<>(listener) {
      @Override
      public void onCancel() {
        try {
          super.onCancel();
        } finally {
          once.run();
        }
      }

      @Override
      public void onComplete() {
        try {
          super.onComplete();
        } finally {
          once.run();
        }
      }
    };
  }
}
