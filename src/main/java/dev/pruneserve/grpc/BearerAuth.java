package dev.pruneserve.grpc;

import dev.pruneserve.config.ServerConfig;
import dev.pruneserve.config.TokenSet;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.quarkus.grpc.GlobalInterceptor;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.Set;

/**
 * Bearer-token checks in front of every service ({@link ServerConfig.Security}): a management call
 * without a token gets UNAUTHENTICATED, with a token that is not a management token
 * PERMISSION_DENIED; inference calls likewise when inference tokens are configured. Health and
 * reflection stay open. Tokens are compared in constant time and never logged; token files are
 * re-read when they change ({@link TokenSet}). Thread-safe.
 */
@ApplicationScoped
@GlobalInterceptor
public class BearerAuth implements ServerInterceptor {
  static final Metadata.Key<String> AUTHORIZATION = Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);

  /** Calls that change what is served or stored. */
  static final Set<String> MANAGEMENT = Set.of("inference.GRPCInferenceService/RepositoryModelLoad",
      "inference.GRPCInferenceService/RepositoryModelUnload", "pruneserve.v1.Pruning/Prune",
      "pruneserve.v1.Pruning/CancelPrune", "pruneserve.v1.Pruning/DeleteVariant", "pruneserve.v1.Pruning/PinVariant",
      "pruneserve.v1.Pruning/SetAlias", "pruneserve.v1.Pruning/DeleteAlias");

  private final TokenSet management;
  private final TokenSet inference;

  public BearerAuth(ServerConfig config) {
    this.management = TokenSet.management(config.security());
    this.inference = TokenSet.inference(config.security());
  }

  @Override
  public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
      ServerCallHandler<Q, R> next) {
    String method = call.getMethodDescriptor().getFullMethodName();
    boolean isManagement = MANAGEMENT.contains(method);
    if (method.startsWith("grpc.health.") || method.startsWith("grpc.reflection.")
        || !(isManagement ? management : inference).enabled()) {
      return next.startCall(call, headers);
    }
    String kind = isManagement ? "management" : "inference";
    byte[] token = TokenSet.bearer(headers.get(AUTHORIZATION));
    if (token == null) {
      return refuse(call, Status.UNAUTHENTICATED.withDescription(method + " is " + (isManagement ? "a " : "an ")
          + kind + " call: send the header `authorization: Bearer <token>`"));
    }
    if (management.matches(token) || (!isManagement && inference.matches(token))) {
      return next.startCall(call, headers);
    }
    return refuse(call,
        Status.PERMISSION_DENIED
            .withDescription("the bearer token is not " + (isManagement ? "a" : "an") + " " + kind + " token"
                + " (pruneserve.security." + kind + "-tokens" + (isManagement ? "" : " or management-tokens") + ")"));
  }

  private static <Q, R> ServerCall.Listener<Q> refuse(ServerCall<Q, R> call, Status status) {
    call.close(status, new Metadata());
    return new ServerCall.Listener<>() {};
  }
}
