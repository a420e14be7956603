package dev.pruneserve.runtime;

import java.util.concurrent.atomic.AtomicLong;

/**
 * Lifetime counters of the sessions of one model: how many were opened, how many closed, and how
 * many times {@code close()} was called. A correct lease discipline keeps {@code closeCalls ==
 * closed} and ends with {@code opened == closed}.
 */
public final class SessionCounters {
  final AtomicLong opened = new AtomicLong();
  final AtomicLong closed = new AtomicLong();
  final AtomicLong closeCalls = new AtomicLong();

  public long opened() {
    return opened.get();
  }

  public long closed() {
    return closed.get();
  }

  public long closeCalls() {
    return closeCalls.get();
  }
}
