package dev.pruneserve.runtime;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import dev.pruneserve.error.ErrorKind;
import dev.pruneserve.error.ServingException;
import dev.pruneserve.session.ModelSession;
import dev.pruneserve.tensor.Tensor;
import dev.pruneserve.tensor.TensorSpec;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * An {@link OrtSession} with the {@link OrtSession.SessionOptions} it was built from (which must
 * outlive it). Concurrent {@link #run} calls are safe; {@link #close} is idempotent and must not
 * race a run — {@code ModelHandle} guarantees that.
 */
final class OrtModelSession implements ModelSession {
  private static final org.jboss.logging.Logger LOG = org.jboss.logging.Logger.getLogger(OrtModelSession.class);
  private final String label;
  private final java.time.Duration runTimeout;
  private final OrtEnvironment env;
  private final OrtSession session;
  private final OrtSession.SessionOptions options;
  private final List<TensorSpec> inputs;
  private final List<TensorSpec> outputs;
  private final long sizeBytes;
  private final SessionCounters counters;
  private final AtomicBoolean closed = new AtomicBoolean();

  OrtModelSession(String label, OrtEnvironment env, OrtSession session,
      OrtSession.SessionOptions options, long sizeBytes, SessionCounters counters, java.time.Duration runTimeout)
      throws OrtException {
    this.runTimeout = runTimeout;
    this.label = label;
    this.env = env;
    this.session = session;
    this.options = options;
    this.sizeBytes = sizeBytes;
    this.counters = counters;
    this.inputs = specs(session.getInputInfo());
    this.outputs = specs(session.getOutputInfo());
  }

  @Override
  public List<TensorSpec> inputs() {
    return inputs;
  }

  @Override
  public List<TensorSpec> outputs() {
    return outputs;
  }

  @Override
  public long sizeBytes() {
    return sizeBytes;
  }

  @Override
  public Map<String, Tensor> run(Map<String, Tensor> in, Set<String> outputNames) {
    Map<String, OnnxTensor> feed = new HashMap<>();
    try {
      for (Tensor t : in.values()) {
        feed.put(t.name(), TensorConverter.toOrt(env, t));
      }
      try (RunDeadline deadline = RunDeadline.start(runTimeout);
          OrtSession.Result result = session.run(feed, outputNames, deadline.options())) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (String name : outputNames) {
          OnnxValue v = result.get(name).orElseThrow();
          if (!(v instanceof OnnxTensor tensor)) {
            throw new ServingException(ErrorKind.UNIMPLEMENTED,
                "output '" + name + "' is not a tensor (" + v.getType() + ")");
          }
          out.put(name, TensorConverter.fromOrt(name, tensor));
        }
        return out;
      }
    } catch (OrtException e) {
      if (RunDeadline.terminated(e)) {
        throw new ServingException(ErrorKind.DEADLINE_EXCEEDED, "model " + label + " ran longer than"
            + " pruneserve.ort.run-timeout (" + runTimeout + ") and was stopped");
      }
      throw OrtMessages.runFailure(label, e);
    } finally {
      feed.values().forEach(OnnxTensor::close);
    }
  }

  @Override
  public dev.pruneserve.session.CarryRun openCarryRun(Map<String, String> carry, Map<String, Tensor> initial) {
    return new OrtCarryRun(label, env, session, carry, initial);
  }

  @Override
  public void close() {
    counters.closeCalls.incrementAndGet();
    if (closed.compareAndSet(false, true)) {
      try {
        session.close();
      } catch (OrtException e) {
        // Nothing a caller can do: a lease release or retire must not fail because of it.
        LOG.errorf(e, "closing the session of %s failed", label);
      } finally {
        options.close();
        counters.closed.incrementAndGet();
      }
    }
  }

  private static List<TensorSpec> specs(Map<String, NodeInfo> infos) {
    List<TensorSpec> out = new ArrayList<>();
    for (NodeInfo n : infos.values()) {
      if (!(n.getInfo() instanceof TensorInfo ti)) {
        throw ServingException.precondition(
            "value '" + n.getName() + "' is not a tensor (" + n.getInfo() + "); only tensors are served");
      }
      String[] names = ti.getDimensionNames();
      out.add(new TensorSpec(n.getName(), TensorConverter.dataType(ti.onnxType, n.getName()), ti.getShape(),
          names == null || names.length != ti.getShape().length ? List.of()
              : java.util.Arrays.stream(names).map(d -> d == null ? "" : d).toList()));
    }
    return List.copyOf(out);
  }
}
