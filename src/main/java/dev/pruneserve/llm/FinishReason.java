package dev.pruneserve.llm;

/** Why a generation ended. */
public enum FinishReason {
  LENGTH,
  EOS,
  STOP,
  CONTEXT,
  CANCELLED
}
