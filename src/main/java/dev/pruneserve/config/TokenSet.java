package dev.pruneserve.config;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.jboss.logging.Logger;

/**
 * Bearer tokens from the configuration plus an optional file (one token per line; blank lines and
 * lines starting with {@code #} ignored). The file is re-read when its modification time, size or
 * identity changes, checked on every {@link #tokens} call (one {@code stat}), so tokens rotate
 * without a restart: a mounted Kubernetes Secret, or any file replaced in place. A file that cannot
 * be read at start fails the start; later, the tokens last read stay in force and a warning is
 * logged. A configured file keeps the check on even while it holds no token (fail closed).
 * Thread-safe: callers see one whole snapshot.
 */
public final class TokenSet {
  private static final Logger LOG = Logger.getLogger(TokenSet.class);

  private record Snapshot(Object stamp, List<byte[]> tokens) {}

  private final String name;
  private final List<byte[]> configured;
  private final Path file;
  private volatile Snapshot current;
  private volatile boolean unreadable;

  /** @param name the setting, for messages ({@code pruneserve.security.management-tokens}) */
  public TokenSet(String name, List<String> configured, Optional<Path> file) {
    this.name = name;
    this.configured = bytes(configured);
    this.file = file.orElse(null);
    if (this.file != null) {
      try {
        current = read(stamp());
      } catch (IOException e) {
        throw new IllegalStateException(name + "-file " + this.file + " cannot be read: " + e.getMessage(), e);
      }
    }
  }

  /** The management tokens of {@code s} (pruneserve.security.management-tokens and its file). */
  public static TokenSet management(ServerConfig.Security s) {
    return new TokenSet("pruneserve.security.management-tokens", s.managementTokens().orElse(List.of()),
        s.managementTokensFile());
  }

  /** The inference tokens of {@code s} (pruneserve.security.inference-tokens and its file). */
  public static TokenSet inference(ServerConfig.Security s) {
    return new TokenSet("pruneserve.security.inference-tokens", s.inferenceTokens().orElse(List.of()),
        s.inferenceTokensFile());
  }

  /** Whether {@code token} is one of the tokens in force; constant time in which token matched. */
  /**
   * The token of an {@code Authorization} header value ({@code Bearer <token>}, scheme case-insensitive,
   * surrounding blanks trimmed), or null when the header is missing, of another scheme or empty.
   */
  public static byte[] bearer(String header) {
    if (header == null || !header.regionMatches(true, 0, "Bearer ", 0, 7) || header.substring(7).isBlank()) {
      return null;
    }
    return header.substring(7).trim().getBytes(java.nio.charset.StandardCharsets.UTF_8);
  }

  public boolean matches(byte[] token) {
    boolean ok = false;
    for (byte[] t : tokens()) {
      ok |= java.security.MessageDigest.isEqual(t, token); // no early exit: the time does not say which
    }
    return ok;
  }

  /** Whether calls need one of these tokens (tokens configured, or a token file set). */
  public boolean enabled() {
    return file != null || !configured.isEmpty();
  }

  /** The tokens in force now (UTF-8 bytes); do not modify. */
  public List<byte[]> tokens() {
    if (file == null) {
      return configured;
    }
    Snapshot s = current;
    try {
      Object stamp = stamp();
      if (!stamp.equals(s.stamp())) {
        s = read(stamp);
        current = s;
        LOG.infof("%s-file %s re-read: %d token(s)", name, file, s.tokens().size() - configured.size());
      }
      if (unreadable) {
        unreadable = false;
      }
    } catch (IOException e) {
      if (!unreadable) { // once per outage, not once per call
        unreadable = true;
        LOG.warnf("%s-file %s cannot be read (%s); the tokens read before stay in force", name, file, e.getMessage());
      }
    }
    return s.tokens();
  }

  private Object stamp() throws IOException {
    BasicFileAttributes a = Files.readAttributes(file, BasicFileAttributes.class); // follows links
    return List.of(a.lastModifiedTime(), a.size(), String.valueOf(a.fileKey()));
  }

  private Snapshot read(Object stamp) throws IOException {
    List<String> lines = new ArrayList<>();
    for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
      if (!line.trim().startsWith("#")) {
        lines.add(line);
      }
    }
    List<byte[]> all = new ArrayList<>(configured);
    all.addAll(bytes(lines));
    return new Snapshot(stamp, List.copyOf(all));
  }

  private static List<byte[]> bytes(List<String> tokens) {
    return tokens.stream().map(String::trim).filter(t -> !t.isEmpty()).map(t -> t.getBytes(StandardCharsets.UTF_8))
        .toList();
  }
}
