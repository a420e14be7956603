package dev.pruneserve.variant;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pruneserve.repository.AtomicFiles;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;

/** Pinned variants (never evicted), persisted in {@code pins.json}; reads lock-free, writes serialised. */
public final class PinSet {
  private static final ObjectMapper JSON = new ObjectMapper();
  private final Path file;
  private final Set<String> pins = ConcurrentHashMap.newKeySet();

  public PinSet(Path file) throws IOException {
    this.file = file;
    if (Files.isRegularFile(file)) {
      pins.addAll(JSON.readValue(file.toFile(), new TypeReference<Set<String>>() {}));
    }
  }

  public boolean contains(String variant) {
    return pins.contains(variant);
  }

  /** Pins or unpins; the file is written before the change becomes visible. */
  public synchronized void set(String variant, boolean pinned) {
    Set<String> next = new TreeSet<>(pins);
    if (pinned) {
      next.add(variant);
    } else {
      next.remove(variant);
    }
    try {
      AtomicFiles.write(file, JSON.writeValueAsBytes(next));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + file, e);
    }
    if (pinned) {
      pins.add(variant);
    } else {
      pins.remove(variant);
    }
  }
}
