package dev.pruneserve.assets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Verified, atomic installation of fixture files: a bad download never leaves a visible file. */
class FixtureCacheTest {
  static final byte[] DATA = "hello fixture".getBytes(StandardCharsets.UTF_8);
  static final String SHA = "9f0b0e1d9b3f2a8e6a8f4c8c33b3bb8e6d2a8b5a3c0f64f4a9e5a8a4ee4f5a1c";

  @TempDir Path dir;

  @Test
  void checksumMismatchLeavesNothing() throws IOException {
    Path target = dir.resolve("sub/file.bin");
    IOException e = assertThrows(IOException.class, () -> FixtureCache.install(
        new ByteArrayInputStream(DATA), DATA.length, target, SHA, "test source"));
    assertTrue(e.getMessage().contains("checksum mismatch"), e.getMessage());
    assertTrue(e.getMessage().contains("test source"), e.getMessage());
    try (Stream<Path> s = Files.list(target.getParent())) {
      assertEquals(0, s.count(), "no partial or temporary file may remain");
    }
  }

  @Test
  void truncatedSourceLeavesNothing() throws IOException {
    Path target = dir.resolve("file.bin");
    IOException e = assertThrows(IOException.class, () -> FixtureCache.install(
        new ByteArrayInputStream(DATA), DATA.length + 10, target, SHA, "test source"));
    assertTrue(e.getMessage().contains("ended 10 bytes early"), e.getMessage());
    try (Stream<Path> s = Files.list(dir)) {
      assertEquals(0, s.count());
    }
  }

  @Test
  void matchingChecksumInstallsAtomically() throws IOException {
    Path src = dir.resolve("src.bin");
    Files.write(src, DATA);
    String sha = FixtureCache.sha256(src);
    Path target = dir.resolve("out/file.bin");
    FixtureCache.install(new ByteArrayInputStream(DATA), DATA.length, target, sha, "test source");
    assertTrue(FixtureCache.verified(target, sha));
    try (Stream<Path> s = Files.list(target.getParent())) {
      assertEquals(1, s.count());
    }
  }
}
