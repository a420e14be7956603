package dev.pruneserve.grpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import org.junit.jupiter.api.function.Executable;

/** Status assertions: the code, a phrase the user needs, and no leaked internals. */
final class GrpcAssertions {
  private GrpcAssertions() {}

  static StatusRuntimeException assertStatus(Status.Code code, String phrase, Executable call) {
    StatusRuntimeException e = assertThrows(StatusRuntimeException.class, call);
    String msg = e.getStatus().getDescription();
    assertEquals(code, e.getStatus().getCode(), () -> "status " + e.getStatus());
    assertTrue(msg != null && msg.contains(phrase), () -> "message '" + msg + "' lacks '" + phrase + "'");
    assertFalse(msg.contains("Exception") || msg.contains("\tat ") || msg.contains("dev.pruneserve."),
        () -> "message leaks internals: " + msg);
    return e;
  }
}
