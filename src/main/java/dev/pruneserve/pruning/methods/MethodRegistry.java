package dev.pruneserve.pruning.methods;

import dev.pruneserve.error.ServingException;
import dev.pruneserve.pruning.cnn.ChannelPruner;
import dev.pruneserve.pruning.criteria.Criterion;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Every pruning method, registered in one place with its wire name and engine revision (bump the
 * number when the method's output for the same request changes). The only place where method
 * names are looked up; everything else asks the {@link PruneMethod}. Immutable, thread-safe.
 */
public final class MethodRegistry {
  private static final Map<String, PruneMethod> METHODS = register(
      new WeightOnlyMethod("random", 1, Criterion.RANDOM, ChannelPruner.Score.RANDOM),
      new WeightOnlyMethod("magnitude-sp", 1, Criterion.MAGNITUDE_SP, null),
      new WeightOnlyMethod("magnitude-l1", 1, Criterion.MAGNITUDE_L1, ChannelPruner.Score.L1),
      new WeightOnlyMethod("magnitude-l2", 1, Criterion.MAGNITUDE_L2, ChannelPruner.Score.L2),
      new WandaSpMethod("wanda-sp", 1),
      new FlapMethod("flap", 1),
      new MiniLlmMethod("mini-llm", 1),
      new IfsoMethod("ifso", 2),
      new TaylorMethod("taylor", 2),
      new ForwardSearchMethod("forward-search", 1));

  private MethodRegistry() {}

  private static Map<String, PruneMethod> register(PruneMethod... methods) {
    Map<String, PruneMethod> m = new LinkedHashMap<>();
    for (PruneMethod p : methods) {
      if (m.put(p.name(), p) != null) {
        throw new IllegalStateException("two methods named " + p.name());
      }
    }
    return java.util.Collections.unmodifiableMap(m);
  }

  /** @throws ServingException INVALID_ARGUMENT naming the known methods */
  public static PruneMethod byName(String name) {
    PruneMethod m = METHODS.get(name);
    if (m == null) {
      throw ServingException.invalid("unknown method '" + name + "'; expected one of " + names());
    }
    return m;
  }

  /** Wire names in registration order. */
  public static List<String> names() {
    return List.copyOf(METHODS.keySet());
  }

  public static List<PruneMethod> all() {
    return List.copyOf(METHODS.values());
  }

  /** Names of the methods that prune CNN channel groups, for messages. */
  static String cnnMethods() {
    return String.join(", ", METHODS.values().stream().filter(PruneMethod::prunesCnns).map(PruneMethod::name)
        .toList());
  }
}
