package dev.pruneserve.runtime;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.pruneserve.error.ErrorKind;
import dev.pruneserve.error.ServingException;
import dev.pruneserve.model.CarryRun;
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
    } catch (OrtException e) {
      close();
      throw new ServingException(ErrorKind.INTERNAL, label + ": cannot create carried inputs: " + e.getMessage());
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
      for (String name : returned) {
        out.put(name, TensorConverter.fromOrt(name, (OnnxTensor) result.get(name).orElseThrow()));
      }
      Map<String, OnnxTensor> next = new HashMap<>();
      carry.forEach((output, input) -> next.put(input, (OnnxTensor) result.get(output).orElseThrow()));
      releasePrevious();
      previous = result;
      carried = next;
      return out;
    } catch (OrtException e) {
      throw new ServingException(ErrorKind.INTERNAL, "model " + label + " failed to run: " + e.getMessage());
    } finally {
      fresh.values().forEach(OnnxTensor::close);
    }
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
