package dev.pruneserve.variant;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.pruneserve.error.ServingException;
import dev.pruneserve.repository.AtomicFiles;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Aliases: names that route requests to a model or variant, persisted in {@code aliases.json} (one
 * atomic file write per change, before the change becomes visible). {@link #route} is lock-free and
 * called on every request; changes serialise on this object and support compare-and-set.
 */
public final class AliasTable {
  private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
  private final Path file;
  private final Map<String, String> targets = new ConcurrentHashMap<>();

  /** Reads {@code file} if it exists. */
  public AliasTable(Path file) throws IOException {
    this.file = file;
    if (Files.isRegularFile(file)) {
      targets.putAll(JSON.readValue(file.toFile(), new TypeReference<Map<String, String>>() {}));
    }
  }

  /** The model serving {@code name}: its alias target, or the name itself. */
  public String route(String name) {
    return targets.getOrDefault(name, name);
  }

  /** Whether some alias points at {@code name}. */
  public boolean isTarget(String name) {
    return targets.containsValue(name);
  }

  public Optional<String> target(String alias) {
    return Optional.ofNullable(targets.get(alias));
  }

  public Map<String, String> snapshot() {
    return new TreeMap<>(targets);
  }

  /**
   * Points {@code alias} at {@code target}; with {@code expected} present, only if the alias now
   * points there ("" = must not exist). Returns the previous target ("" if none).
   *
   * @throws ServingException FAILED_PRECONDITION when the compare-and-set fails
   */
  public synchronized String set(String alias, String target, Optional<String> expected) {
    String current = targets.getOrDefault(alias, "");
    if (expected.isPresent() && !expected.get().equals(current)) {
      throw ServingException.precondition("alias '" + alias + "' points at '" + current + "', not the expected '"
          + expected.get() + "'; read it again and retry");
    }
    Map<String, String> next = new TreeMap<>(targets);
    next.put(alias, target);
    persist(next);
    targets.put(alias, target);
    return current;
  }

  /** Removes {@code alias}; returns whether it existed. */
  public synchronized boolean remove(String alias) {
    if (!targets.containsKey(alias)) {
      return false;
    }
    Map<String, String> next = new TreeMap<>(targets);
    next.remove(alias);
    persist(next);
    targets.remove(alias);
    return true;
  }

  private void persist(Map<String, String> next) {
    try {
      AtomicFiles.write(file, JSON.writeValueAsBytes(next));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + file, e);
    }
  }
}
