package dev.pruneserve.grpc;

import com.google.protobuf.ByteString;
import com.google.protobuf.Message;
import com.google.protobuf.UnknownFieldSet;
import io.grpc.ForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.MethodDescriptor.PrototypeMarshaller;
import io.grpc.ServerCallHandler;
import io.grpc.ServerMethodDefinition;
import io.grpc.ServerServiceDefinition;
import io.grpc.ServiceDescriptor;
import io.grpc.Status;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import org.jboss.logging.Logger;

/**
 * Requests that do not decode (truncated or garbage protobuf, invalid UTF-8 in a string field) get
 * INVALID_ARGUMENT saying why, instead of grpc-java's UNKNOWN "Application error processing RPC"
 * and a stack trace per request. The request marshaller of every method is wrapped so that parsing
 * never throws: a failure yields a marker message (the method's prototype carrying the reason in
 * an unknown field, {@link #error}); unary and server-streaming calls receiving one are closed
 * with INVALID_ARGUMENT; streaming-request handlers see the marker and answer it in-band (the bidi
 * ModelStreamInfer sends one {@code error_message} and keeps the stream). At most one log line per
 * {@link #LOG_EVERY_NANOS}. Stateless apart from the log counter; thread-safe.
 */
final class UndecodableRequests {
  private static final Logger LOG = Logger.getLogger(UndecodableRequests.class);
  /** The highest field number protobuf allows; no pruneserve message uses it. */
  static final int MARKER_FIELD = 536_870_911;
  private static final long LOG_EVERY_NANOS = 10_000_000_000L;
  private static final AtomicLong lastLog = new AtomicLong(System.nanoTime() - LOG_EVERY_NANOS);
  private static final AtomicLong suppressed = new AtomicLong();

  private UndecodableRequests() {}

  /** {@code service} with every method's request parsing guarded. */
  static ServerServiceDefinition guard(ServerServiceDefinition service) {
    ServiceDescriptor old = service.getServiceDescriptor();
    List<ServerMethodDefinition<?, ?>> methods = new ArrayList<>();
    for (ServerMethodDefinition<?, ?> m : service.getMethods()) {
      methods.add(guard(m));
    }
    ServiceDescriptor.Builder d = ServiceDescriptor.newBuilder(old.getName())
        .setSchemaDescriptor(old.getSchemaDescriptor());
    methods.forEach(m -> d.addMethod(m.getMethodDescriptor()));
    ServerServiceDefinition.Builder b = ServerServiceDefinition.builder(d.build());
    methods.forEach(b::addMethod);
    return b.build();
  }

  /** The reason a request did not decode, when {@code request} is the marker standing for it. */
  static Optional<String> error(Object request) {
    if (request instanceof Message m && m.getUnknownFields().hasField(MARKER_FIELD)) {
      List<ByteString> v = m.getUnknownFields().getField(MARKER_FIELD).getLengthDelimitedList();
      String why = v.isEmpty() ? "undecodable request" : v.get(0).toString(StandardCharsets.UTF_8);
      return Optional.of(why.length() > 300 ? why.substring(0, 300) + "…" : why); // a client may send the field
    }
    return Optional.empty();
  }

  private static <Q, R> ServerMethodDefinition<Q, R> guard(ServerMethodDefinition<Q, R> m) {
    MethodDescriptor<Q, R> md = m.getMethodDescriptor();
    if (!(md.getRequestMarshaller() instanceof PrototypeMarshaller<Q> proto)
        || !(proto.getMessagePrototype() instanceof Message)) {
      return m;
    }
    MethodDescriptor<Q, R> safe = md.toBuilder(new SafeMarshaller<>(proto, md.getFullMethodName()),
        md.getResponseMarshaller()).build();
    ServerCallHandler<Q, R> handler = m.getServerCallHandler();
    boolean closeOnError = md.getType().clientSendsOneMessage();
    return ServerMethodDefinition.create(safe, closeOnError ? refusing(handler) : handler);
  }

  /** Closes a call whose request did not decode with INVALID_ARGUMENT; the handler never sees it. */
  private static <Q, R> ServerCallHandler<Q, R> refusing(ServerCallHandler<Q, R> next) {
    return (call, headers) -> new ForwardingServerCallListener.SimpleForwardingServerCallListener<Q>(
        next.startCall(call, headers)) {
      private boolean refused; // listener events are serialised

      @Override
      public void onMessage(Q message) {
        Optional<String> why = error(message);
        if (why.isPresent() && !refused) {
          refused = true;
          call.close(Status.INVALID_ARGUMENT.withDescription(why.get()), new Metadata());
        } else if (!refused) {
          super.onMessage(message);
        }
      }

      @Override
      public void onHalfClose() {
        if (!refused) {
          super.onHalfClose();
        }
      }
    };
  }

  /** Parses with the method's own marshaller; a failure becomes the marker, never an exception. */
  private static final class SafeMarshaller<Q> implements PrototypeMarshaller<Q> {
    private final PrototypeMarshaller<Q> delegate;
    private final String method;

    SafeMarshaller(PrototypeMarshaller<Q> delegate, String method) {
      this.delegate = delegate;
      this.method = method;
    }

    @Override
    public InputStream stream(Q value) {
      return delegate.stream(value);
    }

    @Override
    public Q parse(InputStream stream) {
      try {
        return delegate.parse(stream);
      } catch (io.grpc.StatusRuntimeException e) {
        if (e.getStatus().getCode() != Status.Code.INTERNAL) {
          throw e; // e.g. RESOURCE_EXHAUSTED for a message over the limit: grpc-java's own answer
        }
        return refused(e);
      } catch (RuntimeException e) {
        return refused(e);
      }
    }

    private Q refused(RuntimeException e) {
      String reason = "the request is not a valid " + method.substring(method.lastIndexOf('/') + 1) + " message: "
          + rootMessage(e);
      logRateLimited(reason);
      return marker(reason);
    }

    @Override
    public Q getMessagePrototype() {
      return delegate.getMessagePrototype();
    }

    @Override
    public Class<Q> getMessageClass() {
      return delegate.getMessageClass();
    }

    @SuppressWarnings("unchecked")
    private Q marker(String reason) {
      Message prototype = (Message) delegate.getMessagePrototype();
      UnknownFieldSet fields = UnknownFieldSet.newBuilder().addField(MARKER_FIELD, UnknownFieldSet.Field.newBuilder()
          .addLengthDelimited(ByteString.copyFromUtf8(reason)).build()).build();
      return (Q) prototype.toBuilder().setUnknownFields(fields).build();
    }
  }

  private static String rootMessage(Throwable e) {
    Throwable t = e;
    while (t.getCause() != null && t.getCause() != t) {
      t = t.getCause();
    }
    String m = t.getMessage() == null ? "malformed protobuf" : t.getMessage();
    m = m.replaceAll("\\s+", " ").trim();
    return m.length() > 200 ? m.substring(0, 200) + "…" : m;
  }

  private static void logRateLimited(String reason) {
    long now = System.nanoTime();
    long last = lastLog.get();
    if (now - last >= LOG_EVERY_NANOS && lastLog.compareAndSet(last, now)) {
      long more = suppressed.getAndSet(0);
      LOG.warnf("undecodable request refused with INVALID_ARGUMENT: %s%s", reason,
          more > 0 ? " (" + more + " more since the last line)" : "");
    } else {
      suppressed.incrementAndGet();
    }
  }
}
