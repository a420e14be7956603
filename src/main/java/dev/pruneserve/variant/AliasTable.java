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
 * Aliases: names that route requests to a model or variant, persisted in {@code aliases.json}.
 * {@link #route} is lock-free and called on every request; changes serialise on this object and
 * support compare-and-set. Durability {@code SYNC}: each change is written (temp file, fsync,
 * rename) before it becomes visible, so an acknowledged change survives a crash (~9 ms per change on
 * the reference machine). {@code WRITE_BEHIND}: the change is visible at once and a background writer
 * persists the latest table, coalescing bursts; a crash within one write loses the latest changes
 * (the alias then points at its previous, still valid target). {@link #flush} waits for the writer.
 */
public final class AliasTable implements AutoCloseable {
  public enum Durability {
    SYNC, WRITE_BEHIND
  }

  private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
  private final Path file;
  private final Durability durability;
  private final Map<String, String> targets = new ConcurrentHashMap<>();
  private final java.util.concurrent.ExecutorService writer = java.util.concurrent.Executors.newSingleThreadExecutor(
      dev.pruneserve.concurrent.DaemonThreads.named("pruneserve-aliases"));
  private final java.util.concurrent.atomic.AtomicBoolean writeQueued = new java.util.concurrent.atomic.AtomicBoolean();

  /** Reads {@code file} if it exists; changes are persisted synchronously. */
  public AliasTable(Path file) throws IOException {
    this(file, Durability.SYNC);
  }

  /** A table kept in memory only (fleet mode: etcd holds the aliases, this is the replica's routing). */
  public static AliasTable inMemory() {
    try {
      return new AliasTable(null, Durability.WRITE_BEHIND);
    } catch (IOException e) {
      throw new UncheckedIOException(e); // nothing is read
    }
  }

  /** @param file where the table is persisted; null = nowhere */
  public AliasTable(Path file, Durability durability) throws IOException {
    this.file = file;
    this.durability = durability;
    if (file != null && Files.isRegularFile(file)) {
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
    if (durability == Durability.SYNC) {
      persist(next);
    }
    targets.put(alias, target);
    writeBehind();
    return current;
  }

  /** Removes {@code alias}; returns whether it existed. */
  public synchronized boolean remove(String alias) {
    if (!targets.containsKey(alias)) {
      return false;
    }
    Map<String, String> next = new TreeMap<>(targets);
    next.remove(alias);
    if (durability == Durability.SYNC) {
      persist(next);
    }
    targets.remove(alias);
    writeBehind();
    return true;
  }

  /** Waits until every change made so far is on disk. */
  public void flush() {
    try {
      writer.submit(() -> {}).get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (java.util.concurrent.ExecutionException e) {
      throw new IllegalStateException(e.getCause());
    }
  }

  @Override
  public void close() {
    flush();
    writer.shutdown();
  }

  /** WRITE_BEHIND: one queued write persists the latest table (later changes coalesce into it). */
  private void writeBehind() {
    if (durability == Durability.WRITE_BEHIND && writeQueued.compareAndSet(false, true)) {
      writer.execute(() -> {
        writeQueued.set(false);
        try {
          persist(snapshot());
        } catch (RuntimeException e) {
          org.jboss.logging.Logger.getLogger(AliasTable.class).errorf("cannot persist aliases: %s", e.getMessage());
        }
      });
    }
  }

  private void persist(Map<String, String> next) {
    if (file == null) {
      return;
    }
    try {
      AtomicFiles.write(file, JSON.writeValueAsBytes(next));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + file, e);
    }
  }
}
