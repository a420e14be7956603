package dev.pruneserve.assets;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.util.HexFormat;

/**
 * The folder where fetched fixtures live, outside git: {@code $PRUNESERVE_CACHE}, else
 * {@code ~/.cache/pruneserve}. Files appear only complete and verified: they are written under a
 * temporary name and renamed once their sha256 matches. Thread-safe for distinct files.
 */
public final class FixtureCache {
  private final Path root;

  public FixtureCache(Path root) {
    this.root = root;
  }

  public static FixtureCache defaultCache() {
    String env = System.getenv("PRUNESERVE_CACHE");
    return new FixtureCache(env != null && !env.isEmpty() ? Path.of(env)
        : Path.of(System.getProperty("user.home"), ".cache", "pruneserve"));
  }

  public Path root() {
    return root;
  }

  public Path resolve(String relative) {
    return root.resolve(relative);
  }

  /** True when {@code file} exists and hashes to {@code sha256}. */
  public static boolean verified(Path file, String sha256) throws IOException {
    return Files.isRegularFile(file) && sha256(file).equals(sha256);
  }

  /**
   * Copies {@code length} bytes of {@code in} to {@code target} through a temporary file, checks
   * the sha256 and renames; on mismatch nothing is left and an IOException says what to fetch.
   */
  public static void install(InputStream in, long length, Path target, String sha256, String source)
      throws IOException {
    Files.createDirectories(target.getParent());
    Path tmp = Files.createTempFile(target.getParent(), "." + target.getFileName(), ".part");
    try {
      MessageDigest md = dev.pruneserve.repository.FileHashes.sha256();
      byte[] buf = new byte[1 << 16];
      long left = length;
      try (var out = Files.newOutputStream(tmp)) {
        while (left > 0) {
          int n = in.read(buf, 0, (int) Math.min(buf.length, left));
          if (n < 0) {
            throw new IOException(source + " ended " + left + " bytes early while writing " + target);
          }
          out.write(buf, 0, n);
          md.update(buf, 0, n);
          left -= n;
        }
      }
      String got = HexFormat.of().formatHex(md.digest());
      if (!got.equals(sha256)) {
        throw new IOException("checksum mismatch for " + target.getFileName() + " from " + source + ": got "
            + got + ", expected " + sha256);
      }
      Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } finally {
      Files.deleteIfExists(tmp);
    }
  }

  public static String sha256(Path file) throws IOException {
    return dev.pruneserve.repository.FileHashes.of(file);
  }
}
