package dev.pruneserve.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.pruneserve.runtime.OrtRuntime;
import dev.pruneserve.session.ModelSession;
import dev.pruneserve.testing.GeneratedDecoder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CancellationException;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Evaluation checks for cancellation before every window (the Prune pipeline's progress report
 * throws once a job is cancelled): a cancel during a long evaluation stops it there, not after the
 * last window.
 */
class EvaluationCancelTest {
  @TempDir Path dir;

  @Test
  void aCancelStopsTheEvaluationBeforeTheNextWindow() throws Exception {
    Path file = dir.resolve("decoder.onnx");
    Files.write(file, GeneratedDecoder.model(dir).toByteArray());
    int[] stream = new int[GeneratedDecoder.SEQ * 10]; // 10 windows
    for (int i = 0; i < stream.length; i++) {
      stream[i] = 1 + i % (GeneratedDecoder.VOCAB - 1);
    }
    AtomicInteger windows = new AtomicInteger();
    try (ModelSession s = OrtRuntime.cpu(1).load("decoder/1", file)) {
      assertEquals(10, LmQuality.evaluate(s, null, stream, GeneratedDecoder.SEQ, f -> windows.incrementAndGet())
          .windows());
      windows.set(0);
      assertThrows(CancellationException.class, () -> LmQuality.evaluate(s, null, stream, GeneratedDecoder.SEQ,
          f -> {
            if (windows.incrementAndGet() == 3) {
              throw new CancellationException("cancelled");
            }
          }));
      assertEquals(3, windows.get(), "stopped at the third window of ten");
    }
  }
}
