package dev.pruneserve.variant;

import dev.pruneserve.error.ServingException;
import dev.pruneserve.model.ModelRegistry;
import dev.pruneserve.repository.ModelNames;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Hot swap: points aliases at models or variants. The target is loaded and warmed before the
 * switch; the switch itself is one atomic map update (compare-and-set when asked), after which new
 * requests resolve to the new target while in-flight requests keep the lease they hold on the old
 * one. A failed load leaves the alias as it was. Thread-safe.
 */
public final class AliasService {
  private final AliasTable table;
  private final ModelRegistry registry;

  public AliasService(AliasTable table, ModelRegistry registry) {
    this.table = table;
    this.registry = registry;
  }

  /** Returns the previous target ("" if the alias is new). */
  public String set(String alias, String target, Optional<String> expectedCurrent) {
    requireAliasName(alias);
    ModelNames.requireValid(target);
    if (!registry.repository().contains(target)) {
      throw ServingException.notFound("alias target '" + target + "' is not a model or variant of the repository");
    }
    expectedCurrent.ifPresent(e -> {
      String now = table.target(alias).orElse("");
      if (!e.equals(now)) { // fail fast before a load; set() checks again atomically
        throw ServingException.precondition("alias '" + alias + "' points at '" + now + "', not the expected '" + e
            + "'; read it again and retry");
      }
    });
    if (!registry.isReady(target, "")) {
      registry.load(target); // throws with the reason; the alias is unchanged
    }
    return table.set(alias, target, expectedCurrent);
  }

  public Optional<String> get(String alias) {
    return table.target(alias);
  }

  public Map<String, String> list() {
    return table.snapshot();
  }

  public boolean delete(String alias) {
    return table.remove(alias);
  }

  public List<String> aliasesOf(String target) {
    return table.snapshot().entrySet().stream().filter(e -> e.getValue().equals(target)).map(Map.Entry::getKey)
        .toList();
  }

  /** An alias is a valid model name that is not a variant name and not a model of the repository. */
  public void requireAliasName(String alias) {
    ModelNames.requireValid(alias);
    if (alias.contains("@")) {
      throw ServingException.invalid("alias '" + alias + "' may not contain '@' (reserved for variants)");
    }
    if (registry.repository().contains(alias)) {
      throw ServingException.invalid("'" + alias + "' is a model of the repository and cannot be an alias");
    }
  }
}
