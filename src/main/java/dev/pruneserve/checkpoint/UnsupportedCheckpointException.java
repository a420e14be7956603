package dev.pruneserve.checkpoint;

/** A checkpoint this build cannot convert; the message names the key or tensor and why. */
public final class UnsupportedCheckpointException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public UnsupportedCheckpointException(String message) {
    super(message);
  }
}
