package dev.pruneserve.variant;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Ownership of a staging folder: the writer holds an exclusive OS file lock on the sibling file
 * {@code <staging>.lock} from before the folder exists until it is renamed away, so start-up
 * recovery (of this or another process on the same host) removes a staging folder only when no
 * live writer holds its lock — a crashed writer's lock is released by the OS. Across hosts (a
 * shared volume whose locks may not reach the other host) the lock file also names its owner
 * ({@link Fleet#ownerTag}), checked against the fleet's leases by {@link VariantStore#recover}. Not
 * thread-safe; one instance per write.
 */
final class StagingLock implements AutoCloseable {
  static final String SUFFIX = ".lock";
  /**
   * Lock files this process holds: probed without opening them, since closing any channel on a
   * file releases every lock the process holds on it (POSIX record locks).
   */
  private static final java.util.Set<Path> HELD = java.util.concurrent.ConcurrentHashMap.newKeySet();
  private final Path file;
  private final FileChannel channel;
  private final FileLock lock;

  private StagingLock(Path file, FileChannel channel, FileLock lock) {
    this.file = file;
    this.channel = channel;
    this.lock = lock;
  }

  /**
   * Creates and locks {@code <staging>.lock} holding {@code owner} (the fleet's owner tag, "" on a
   * single server); the staging folder itself is created by the caller after.
   */
  static StagingLock hold(Path staging, String owner) throws IOException {
    Path f = lockFile(staging);
    FileChannel ch = FileChannel.open(f, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
    try {
      StagingLock l = new StagingLock(f, ch, ch.lock());
      ch.write(java.nio.ByteBuffer.wrap(owner.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
      ch.force(true);
      HELD.add(f.toAbsolutePath().normalize());
      return l;
    } catch (IOException | RuntimeException e) {
      ch.close();
      Files.deleteIfExists(f);
      throw e;
    }
  }

  /** True when no writer holds the lock of {@code staging} (or it has none). */
  static boolean abandoned(Path staging) throws IOException {
    Path f = lockFile(staging);
    if (HELD.contains(f.toAbsolutePath().normalize())) {
      return false;
    }
    if (!Files.exists(f)) {
      return true;
    }
    try (FileChannel ch = FileChannel.open(f, StandardOpenOption.WRITE)) {
      FileLock probe = ch.tryLock();
      if (probe == null) {
        return false; // another process holds it
      }
      probe.release();
      return true;
    } catch (OverlappingFileLockException e) {
      return false; // this process holds it
    } catch (java.nio.file.NoSuchFileException e) {
      return true;
    }
  }

  /** The owner tag in the lock file of {@code staging}; "" when there is none. */
  static String owner(Path staging) throws IOException {
    try {
      return Files.readString(lockFile(staging)).trim();
    } catch (java.nio.file.NoSuchFileException e) {
      return "";
    }
  }

  /** A lock file whose folder is gone: removed when nobody holds it. */
  static void removeIfOrphaned(Path lockFile) throws IOException {
    Path staging = lockFile.resolveSibling(lockFile.getFileName().toString().substring(0,
        lockFile.getFileName().toString().length() - SUFFIX.length()));
    if (!Files.exists(staging) && abandoned(staging)) {
      Files.deleteIfExists(lockFile);
    }
  }

  static void removeLockFile(Path staging) throws IOException {
    Files.deleteIfExists(lockFile(staging));
  }

  private static Path lockFile(Path staging) {
    return staging.resolveSibling(staging.getFileName() + SUFFIX);
  }

  /** Releases the lock and removes the lock file. */
  @Override
  public void close() throws IOException {
    try {
      lock.release();
    } finally {
      HELD.remove(file.toAbsolutePath().normalize());
      channel.close();
      Files.deleteIfExists(file);
    }
  }
}
