package dev.pruneserve.error;

/**
 * A failure whose message is safe to show to the caller: it names what was wrong and what to do,
 * and never carries a class name or stack trace.
 */
public final class ServingException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final ErrorKind kind;

  public ServingException(ErrorKind kind, String message) {
    super(message);
    this.kind = kind;
  }

  public ServingException(ErrorKind kind, String message, Throwable cause) {
    super(message, cause);
    this.kind = kind;
  }

  public ErrorKind kind() {
    return kind;
  }

  public static ServingException invalid(String message) {
    return new ServingException(ErrorKind.INVALID_ARGUMENT, message);
  }

  public static ServingException notFound(String message) {
    return new ServingException(ErrorKind.NOT_FOUND, message);
  }

  public static ServingException unavailable(String message) {
    return new ServingException(ErrorKind.UNAVAILABLE, message);
  }

  public static ServingException unimplemented(String message) {
    return new ServingException(ErrorKind.UNIMPLEMENTED, message);
  }

  public static ServingException precondition(String message) {
    return new ServingException(ErrorKind.FAILED_PRECONDITION, message);
  }
}
