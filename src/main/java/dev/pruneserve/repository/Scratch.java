package dev.pruneserve.repository;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * This process's scratch folder for temporary models (calibration copies, validation, evaluation):
 * {@code <java.io.tmpdir>/pruneserve-scratch-<pid>/}, owned through an OS file lock on
 * {@code <folder>.lock} held for the life of the process. Files are deleted where they are made;
 * what a killed or halted process left behind is removed at the next start ({@link #removeStale}),
 * and the folder is emptied at shutdown ({@link #clear}). Thread-safe.
 */
public final class Scratch {
  private static final String PREFIX = "pruneserve-scratch-";
  private static Path dir;
  private static FileLock lock; // held until the process ends

  private Scratch() {}

  /** The folder, created and locked on first use. */
  public static synchronized Path dir() {
    if (dir == null) {
      Path d = Path.of(System.getProperty("java.io.tmpdir")).resolve(PREFIX + ProcessHandle.current().pid());
      try {
        FileChannel ch = FileChannel.open(d.resolveSibling(d.getFileName() + ".lock"), StandardOpenOption.CREATE,
            StandardOpenOption.WRITE);
        try {
          lock = ch.lock();
        } catch (OverlappingFileLockException e) {
          // this process holds it already (this class loaded by a second class loader); ch stays open:
          // closing any channel on the file would release the process's lock (POSIX semantics)
        }
        Files.createDirectories(d);
      } catch (IOException e) {
        throw new UncheckedIOException("cannot create the scratch folder " + d, e);
      }
      dir = d;
    }
    return dir;
  }

  /** Removes the scratch folders of processes that are gone (their lock is free); returns how many. */
  public static int removeStale() throws IOException {
    Path tmp = Path.of(System.getProperty("java.io.tmpdir"));
    int removed = 0;
    try (Stream<Path> all = Files.list(tmp)) {
      for (Path p : (Iterable<Path>) all.filter(x -> x.getFileName().toString().startsWith(PREFIX)
          && Files.isDirectory(x))::iterator) {
        boolean own = p.getFileName().toString().equals(PREFIX + ProcessHandle.current().pid());
        if (own || !free(p.resolveSibling(p.getFileName() + ".lock"))) { // never probe our own lock (see dir)
          continue;
        }
        deleteTree(p);
        Files.deleteIfExists(p.resolveSibling(p.getFileName() + ".lock"));
        removed++;
      }
    }
    return removed;
  }

  /** Deletes everything in this process's folder (shutdown, after the drain). */
  public static synchronized void clear() throws IOException {
    if (dir != null && Files.isDirectory(dir)) {
      try (Stream<Path> all = Files.list(dir)) {
        for (Path p : (Iterable<Path>) all::iterator) {
          deleteTree(p);
        }
      }
    }
  }

  private static boolean free(Path lockFile) throws IOException {
    if (!Files.exists(lockFile)) {
      return true;
    }
    try (FileChannel ch = FileChannel.open(lockFile, StandardOpenOption.WRITE)) {
      FileLock probe = ch.tryLock();
      if (probe == null) {
        return false;
      }
      probe.release();
      return true;
    } catch (OverlappingFileLockException e) {
      return false;
    }
  }

  private static void deleteTree(Path p) throws IOException {
    try (Stream<Path> all = Files.walk(p)) {
      for (Path f : (Iterable<Path>) all.sorted(Comparator.reverseOrder())::iterator) {
        Files.deleteIfExists(f);
      }
    } catch (UncheckedIOException e) {
      if (!(e.getCause() instanceof java.nio.file.NoSuchFileException)) {
        throw e.getCause();
      }
    }
  }
}
