package dev.pruneserve.llm;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Header handling of the llama2.c reader: clear errors for what it does not read. */
class Llama2cCheckpointTest {
  @TempDir Path dir;

  @Test
  void versionedHeaderIsRejectedWithAMessage() throws IOException {
    IOException e = assertThrows(IOException.class, () -> Llama2cCheckpoint.read(file(0x616b3432, 2, 0, 0, 0, 0, 0)));
    assertTrue(e.getMessage().contains("versioned llama2.c checkpoint"), e.getMessage());
  }

  @Test
  void truncatedFileIsRejected() throws IOException {
    IOException e = assertThrows(IOException.class, () -> Llama2cCheckpoint.read(file(16, 32, 2, 2, 2, 64, 8)));
    assertTrue(e.getMessage().contains("truncated"), e.getMessage());
  }

  @Test
  void groupedQueryAttentionIsRejected() throws IOException {
    IOException e = assertThrows(IOException.class, () -> Llama2cCheckpoint.read(file(16, 32, 2, 4, 2, 64, 8)));
    assertTrue(e.getMessage().contains("grouped-query attention"), e.getMessage());
  }

  private Path file(int... header) throws IOException {
    ByteBuffer b = ByteBuffer.allocate(header.length * 4 + 64).order(ByteOrder.LITTLE_ENDIAN);
    for (int h : header) {
      b.putInt(h);
    }
    Path p = dir.resolve("ck.bin");
    Files.write(p, b.array());
    return p;
  }
}
