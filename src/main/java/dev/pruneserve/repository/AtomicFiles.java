package dev.pruneserve.repository;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/** Writes files so that readers see either the old content or the complete new one, never a part. */
public final class AtomicFiles {
  private AtomicFiles() {}

  /** Writes to a temporary file beside {@code file}, forces it to disk, then renames it into place. */
  public static void write(Path file, byte[] bytes) throws IOException {
    Files.createDirectories(file.getParent());
    Path tmp = Files.createTempFile(file.getParent(), ".tmp-", ".part");
    try {
      try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(tmp,
          java.nio.file.StandardOpenOption.WRITE, java.nio.file.StandardOpenOption.TRUNCATE_EXISTING)) {
        java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(bytes);
        while (b.hasRemaining()) {
          ch.write(b);
        }
        ch.force(true);
      }
      Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } finally {
      Files.deleteIfExists(tmp);
    }
  }

  /** What {@link #write(Path, Writer)} streams into the temporary file. */
  public interface Writer {
    void writeTo(java.io.OutputStream out) throws IOException;
  }

  /** As {@link #write(Path, byte[])}, streaming: the content is never held in memory whole. */
  public static void write(Path file, Writer content) throws IOException {
    Files.createDirectories(file.getParent());
    Path tmp = Files.createTempFile(file.getParent(), ".tmp-", ".part");
    try {
      try (java.io.FileOutputStream fos = new java.io.FileOutputStream(tmp.toFile());
          java.io.BufferedOutputStream out = new java.io.BufferedOutputStream(fos, 1 << 20)) {
        content.writeTo(out);
        out.flush();
        fos.getChannel().force(true);
      }
      Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } finally {
      Files.deleteIfExists(tmp);
    }
  }

  /** Copies {@code source} to {@code target} the same way. */
  public static void copy(Path source, Path target) throws IOException {
    Files.createDirectories(target.getParent());
    Path tmp = Files.createTempFile(target.getParent(), ".tmp-", ".part");
    try {
      Files.copy(source, tmp, StandardCopyOption.REPLACE_EXISTING);
      Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } finally {
      Files.deleteIfExists(tmp);
    }
  }

  /**
   * True for a leftover temporary file of an interrupted write: such files live for the few
   * milliseconds of one write, so one untouched for a minute has no writer any more.
   */
  public static boolean isStale(Path tmp) throws IOException {
    return Files.getLastModifiedTime(tmp).toMillis() < System.currentTimeMillis() - 60_000;
  }
}
