package dev.pruneserve.pruning.methods;

import java.util.Map;

/** A method's own settings (immutable); {@link #identity} writes the data that enters the variant id. */
public interface MethodSettings {
  /** No settings of its own. */
  MethodSettings NONE = m -> {};

  void identity(Map<String, Object> m);
}
