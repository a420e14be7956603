package dev.pruneserve.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pruneserve.error.ErrorKind;
import dev.pruneserve.error.ServingException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Callers never see ONNX Runtime's C++ source locations, function names or the server's paths. */
class OrtMessagesTest {
  @TempDir Path dir;

  @Test
  void sourceLocationsAndFunctionNamesAreRemoved() {
    String ort = "[ONNXRuntimeError] : 2 : INVALID_ARGUMENT : Non-zero status code returned while running Add node."
        + " /onnxruntime_src/onnxruntime/core/providers/cpu/math/element_wise_ops.h:540"
        + " void onnxruntime::BroadcastIterator::Append(ptrdiff_t, ptrdiff_t) axis == 1 || axis == largest was false.";
    String clean = OrtMessages.clean(ort);
    assertFalse(clean.contains(".h:540") || clean.contains("onnxruntime::") || clean.contains("/onnxruntime_src"),
        clean);
    assertTrue(clean.startsWith("INVALID_ARGUMENT : Non-zero status code returned while running Add node."), clean);
  }

  @Test
  void aZeroByteModelIsRefusedWithoutNativeDetail() throws Exception {
    Path empty = Files.createFile(dir.resolve("model.onnx"));
    ServingException e = assertThrows(ServingException.class, () -> OrtRuntime.cpu(1).load("empty/1", empty));
    assertEquals(ErrorKind.FAILED_PRECONDITION, e.kind());
    assertFalse(e.getMessage().matches(".*\\.(cc|h):\\d+.*") || e.getMessage().contains(dir.toString()),
        e.getMessage());
  }
}
