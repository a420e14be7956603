package dev.pruneserve.runtime;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.pruneserve.error.ErrorKind;
import dev.pruneserve.error.ServingException;
import dev.pruneserve.session.CarryRun;
import dev.pruneserve.tensor.Tensor;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Keeps the previous step's {@link OrtSession.Result} alive and feeds its carried outputs straight
 * back as inputs, so a KV cache never crosses into Java. Owns at most one Result and the initial
 * tensors; {@link #close} frees them (idempotent). Single-threaded by contract.
 */
final class OrtCarryRun implements CarryRun {
  private final String label;
  private final OrtEnvironment env;
  private final OrtSession session;
  private final Map<String, String> carry;
  private final Map<String, OnnxTensor> owned = new HashMap<>();
  private Map<String, OnnxTensor> carried = new HashMap<>();
  private OrtSession.Result previous;

  OrtCarryRun(String label, OrtEnvironment env, OrtSession session, Map<String, String> carry,
      Map<String, Tensor> initial) {
    this.label = label;
    this.env = env;
    this.session = session;
    this.carry = Map.copyOf(carry);
    try {
      for (Tensor t : initial.values()) {
        OnnxTensor o = TensorConverter.toOrt(env, t);
        owned.put(t.name(), o);
        carried.put(t.name(), o);
      }
    } catch (OrtException | RuntimeException e) {
      close();
      throw e instanceof ServingException se ? se
          : e instanceof OrtException oe ? OrtMessages.runFailure(label, oe)
          : new ServingException(ErrorKind.INTERNAL, label + ": cannot create carried inputs; see the server log");
    }
  }

  @Override
  public Map<String, Tensor> step(Map<String, Tensor> inputs, Set<String> returned) {
    Map<String, OnnxTensor> fresh = new HashMap<>();
    try {
      Map<String, OnnxTensor> feed = new HashMap<>(carried);
      for (Tensor t : inputs.values()) {
        OnnxTensor o = TensorConverter.toOrt(env, t);
        fresh.put(t.name(), o);
        feed.put(t.name(), o);
      }
      Set<String> wanted = new HashSet<>(returned);
      wanted.addAll(carry.keySet());
      OrtSession.Result result = session.run(feed, wanted);
      Map<String, Tensor> out = new LinkedHashMap<>();
      Map<String, OnnxTensor> next = new HashMap<>();
      try {
        for (String name : returned) {
          out.put(name, TensorConverter.fromOrt(name, tensor(result, name)));
        }
        for (Map.Entry<String, String> c : carry.entrySet()) {
          next.put(c.getValue(), tensor(result, c.getKey()));
        }
      } catch (OrtException | RuntimeException e) {
        result.close(); // the new cache never becomes current
        throw e;
      }
      releasePrevious();
      previous = result;
      carried = next;
      return out;
    } catch (OrtException e) {
      throw OrtMessages.runFailure(label, e);
    } finally {
      fresh.values().forEach(OnnxTensor::close);
    }
  }

  @Override
  public Map<String, Tensor> carried() {
    Map<String, Tensor> out = new LinkedHashMap<>();
    try {
      for (Map.Entry<String, OnnxTensor> e : carried.entrySet()) {
        out.put(e.getKey(), TensorConverter.fromOrt(e.getKey(), e.getValue()));
      }
    } catch (OrtException e) {
      throw OrtMessages.runFailure(label, e);
    }
    return out;
  }

  private static OnnxTensor tensor(OrtSession.Result result, String name) {
    if (result.get(name).orElse(null) instanceof OnnxTensor t) {
      return t;
    }
    throw new ServingException(ErrorKind.FAILED_PRECONDITION, "output '" + name + "' is not a tensor");
  }

  @Override
  public void close() {
    releasePrevious();
    carried = new HashMap<>();
  }

  private void releasePrevious() {
    if (previous != null) {
      previous.close();
      previous = null;
    }
    List<OnnxTensor> initial = new ArrayList<>(owned.values());
    owned.clear();
    initial.forEach(OnnxTensor::close);
  }
}
