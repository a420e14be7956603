package dev.pruneserve.model;

import dev.pruneserve.error.ServingException;
import dev.pruneserve.tensor.Shapes;
import dev.pruneserve.tensor.Tensor;
import dev.pruneserve.tensor.TensorSpec;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** Checks a request against a session's declared inputs and outputs; errors name the tensor. */
final class InputValidator {
  private InputValidator() {}

  static Map<String, Tensor> inputs(String model, List<TensorSpec> specs, List<Tensor> given) {
    Map<String, Tensor> byName = new LinkedHashMap<>();
    for (Tensor t : given) {
      if (byName.put(t.name(), t) != null) {
        throw ServingException.invalid("input '" + t.name() + "' is given more than once");
      }
    }
    List<String> expected = specs.stream().map(TensorSpec::name).toList();
    for (String n : byName.keySet()) {
      if (!expected.contains(n)) {
        throw ServingException.invalid(
            "unknown input '" + n + "' for model '" + model + "'; expected inputs " + expected);
      }
    }
    if (byName.size() != specs.size()) {
      List<String> missing = expected.stream().filter(n -> !byName.containsKey(n)).toList();
      throw ServingException.invalid(
          "model '" + model + "' expects " + specs.size() + " inputs, got " + byName.size()
              + "; missing " + missing);
    }
    for (TensorSpec spec : specs) {
      Tensor t = byName.get(spec.name());
      if (t.type() != spec.type()) {
        throw ServingException.invalid(
            "input '" + spec.name() + "': expected datatype " + spec.type().wireName() + ", got "
                + t.type().wireName());
      }
      if (!Shapes.matches(spec.shape(), t.shape())) {
        throw ServingException.invalid(
            "input '" + spec.name() + "': expected shape " + Shapes.format(spec.shape())
                + " (-1 = any), got " + Shapes.format(t.shape()));
      }
    }
    return byName;
  }

  static Set<String> outputs(String model, List<TensorSpec> specs, List<String> requested) {
    List<String> declared = specs.stream().map(TensorSpec::name).toList();
    if (requested.isEmpty()) {
      return new LinkedHashSet<>(declared);
    }
    Set<String> out = new LinkedHashSet<>();
    for (String n : requested) {
      if (!declared.contains(n)) {
        throw ServingException.invalid(
            "unknown output '" + n + "' for model '" + model + "'; outputs are " + declared);
      }
      if (!out.add(n)) {
        throw ServingException.invalid("output '" + n + "' is requested more than once");
      }
    }
    return out;
  }
}
