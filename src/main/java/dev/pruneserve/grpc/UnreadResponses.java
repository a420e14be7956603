package dev.pruneserve.grpc;

import com.google.protobuf.MessageLite;
import dev.pruneserve.config.ServerConfig;
import io.grpc.ForwardingServerCall;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.quarkus.grpc.GlobalInterceptor;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.util.concurrent.atomic.AtomicLong;
import org.jboss.logging.Logger;

/**
 * Bounds the response bytes the server holds for clients that do not read them: a message counts
 * from {@code sendMessage} until its call completes or is cancelled (grpc-java reports both once
 * the transport is done with the call). A message that would take the total beyond
 * {@code pruneserve.limits.max-unread-response-bytes} is not sent; its call ends with
 * RESOURCE_EXHAUSTED instead and what the handler sends after that is dropped. Calls of one
 * ServerCall are serialised by grpc-java; the total is shared and atomic. Thread-safe.
 */
@ApplicationScoped
@GlobalInterceptor
public class UnreadResponses implements ServerInterceptor {
  static final String SETTING = "pruneserve.limits.max-unread-response-bytes";
  private static final Logger LOG = Logger.getLogger(UnreadResponses.class);
  private final long budget;
  private final AtomicLong held = new AtomicLong();

  @Inject
  public UnreadResponses(ServerConfig config) {
    this(config.limits().maxUnreadResponseBytes());
  }

  UnreadResponses(long budget) {
    this.budget = budget;
  }

  /** Bytes counted now (for tests and metrics). */
  long held() {
    return held.get();
  }

  @Override
  public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
      ServerCallHandler<Q, R> next) {
    AtomicLong mine = new AtomicLong();
    Runnable release = () -> held.addAndGet(-mine.getAndSet(0));
    ServerCall<Q, R> counted = new ForwardingServerCall.SimpleForwardingServerCall<>(call) {
      private boolean refused;

      @Override
      public void sendMessage(R message) {
        if (refused) {
          return;
        }
        long size = message instanceof MessageLite m ? m.getSerializedSize() : 0;
        long total = held.addAndGet(size);
        if (total > budget && size > 0) {
          held.addAndGet(-size);
          refused = true;
          LOG.warnf("%s: a %d-byte response refused, %d bytes of earlier responses unread by their clients",
              call.getMethodDescriptor().getFullMethodName(), size, total - size);
          super.close(Status.RESOURCE_EXHAUSTED.withDescription("the server holds " + (total - size)
              + " bytes of responses its clients have not read yet; this " + size + "-byte response would exceed "
              + SETTING + " = " + budget + "; retry later"), new Metadata());
          return;
        }
        mine.addAndGet(size);
        super.sendMessage(message);
      }

      @Override
      public void close(Status status, Metadata trailers) {
        if (!refused) {
          super.close(status, trailers);
        }
      }
    };
    return CallEnd.start(next, counted, headers, release);
  }
}
