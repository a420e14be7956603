package dev.pruneserve.model;

import dev.pruneserve.session.CarryRun;
import dev.pruneserve.session.ModelSession;
import dev.pruneserve.tensor.DataType;
import dev.pruneserve.tensor.Tensor;
import dev.pruneserve.tensor.TensorSpec;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;

/** A session whose run() can be held open, and which counts close() calls and runs after close. */
final class FakeSession implements ModelSession {
  final AtomicInteger closeCalls = new AtomicInteger();
  final AtomicInteger runsAfterClose = new AtomicInteger();
  final CountDownLatch entered = new CountDownLatch(1);
  volatile CountDownLatch gate = new CountDownLatch(0);

  @Override
  public List<TensorSpec> inputs() {
    return List.of(new TensorSpec("x", DataType.FP32, new long[] {-1}));
  }

  @Override
  public List<TensorSpec> outputs() {
    return List.of(new TensorSpec("y", DataType.FP32, new long[] {-1}));
  }

  @Override
  public Map<String, Tensor> run(Map<String, Tensor> inputs, Set<String> outputNames) {
    entered.countDown();
    try {
      gate.await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    if (closeCalls.get() > 0) {
      runsAfterClose.incrementAndGet();
    }
    Tensor x = inputs.get("x");
    return Map.of("y", Tensor.fixed("y", DataType.FP32, x.shape(), x.dataView()));
  }

  @Override
  public CarryRun openCarryRun(Map<String, String> carry, Map<String, Tensor> initial) {
    throw new UnsupportedOperationException("not needed by the lease tests");
  }

  @Override
  public long sizeBytes() {
    return 1;
  }

  @Override
  public void close() {
    closeCalls.incrementAndGet();
  }
}
