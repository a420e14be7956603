package dev.pruneserve.error;

/**
 * Why a request failed, independent of transport. The gRPC adapter maps each kind to the status
 * code of the same name (Triton's mapping for {@code inference.*}).
 */
public enum ErrorKind {
  INVALID_ARGUMENT,
  NOT_FOUND,
  ALREADY_EXISTS,
  FAILED_PRECONDITION,
  RESOURCE_EXHAUSTED,
  UNAVAILABLE,
  UNIMPLEMENTED,
  CANCELLED,
  DEADLINE_EXCEEDED,
  INTERNAL
}
