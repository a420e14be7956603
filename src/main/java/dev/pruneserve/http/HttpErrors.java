package dev.pruneserve.http;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.pruneserve.error.ServingException;
import jakarta.ws.rs.WebApplicationException;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.UriInfo;
import org.jboss.logging.Logger;
import org.jboss.resteasy.reactive.server.ServerExceptionMapper;

/**
 * Every failure of an HTTP route as a JSON error body with a status a client can act on (the HTTP
 * twin of the gRPC status mapping): OpenAI's {@code {"error": {"message", "type", "param", "code"}}}
 * under {@code /v1}, KServe v2's {@code {"error": "..."}} elsewhere. Unexpected failures are logged
 * and answer a generic 500 (never a class name or stack trace). Stateless.
 */
public final class HttpErrors {
  private static final Logger LOG = Logger.getLogger(HttpErrors.class);

  /** A failure as status + message. */
  public record Failure(int status, String message) {}

  @ServerExceptionMapper
  public Response map(Throwable t, UriInfo uri) {
    return response(failure(t), uri.getPath());
  }

  /** The status and message for {@code t}; the same mapping as gRPC's status codes. */
  public static Failure failure(Throwable t) {
    if (t instanceof ServingException se) {
      return new Failure(switch (se.kind()) {
        case INVALID_ARGUMENT, FAILED_PRECONDITION -> 400;
        case NOT_FOUND -> 404;
        case ALREADY_EXISTS -> 409;
        case RESOURCE_EXHAUSTED -> 429;
        case UNAVAILABLE -> 503;
        case UNIMPLEMENTED -> 501;
        case CANCELLED -> 499;
        case DEADLINE_EXCEEDED -> 504;
        case INTERNAL -> 500;
      }, se.getMessage());
    }
    if (t instanceof WebApplicationException w) { // routing and content negotiation: the framework's
      int s = w.getResponse().getStatus();
      Response.StatusType type = Response.Status.fromStatusCode(s);
      return new Failure(s, switch (s) {
        case 404 -> "no such route; see the README for the /v1 (OpenAI) and /v2 (KServe) routes";
        case 405 -> "this route does not take that HTTP method";
        case 413 -> "the request body is larger than this server accepts (pruneserve.max-message-bytes)";
        case 415 -> "send the body as application/json";
        default -> type == null ? "request failed" : type.getReasonPhrase();
      });
    }
    if (t instanceof OutOfMemoryError) {
      LOG.errorf("out of memory while serving an HTTP request: %s", t.getMessage());
      return new Failure(429, "the server ran out of memory for this request; retry later or send a smaller one");
    }
    LOG.error("internal error while serving an HTTP request", t);
    return new Failure(500, "internal server error; see the server log");
  }

  /** The error response in the flavour of {@code path}'s API. */
  public static Response response(Failure f, String path) {
    return Response.status(f.status()).type(MediaType.APPLICATION_JSON).entity(body(f, path).toString()).build();
  }

  /** The JSON error body in the flavour of {@code path}'s API. */
  public static ObjectNode body(Failure f, String path) {
    ObjectNode root = JsonBody.JSON.createObjectNode();
    if (!path.startsWith("/v1/")) {
      return root.put("error", f.message());
    }
    ObjectNode e = root.putObject("error").put("message", f.message()).put("type", switch (f.status()) {
      case 400, 404, 405, 409, 413, 415 -> "invalid_request_error";
      case 401 -> "authentication_error";
      case 403 -> "permission_error";
      case 429 -> "rate_limit_error";
      case 503 -> "service_unavailable_error";
      default -> "server_error";
    });
    e.putNull("param");
    if (f.status() == 404 && (f.message().startsWith("unknown model") || f.message().startsWith("model '"))) {
      e.put("code", "model_not_found");
    } else {
      e.putNull("code");
    }
    return root;
  }
}
