package dev.pruneserve.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pruneserve.error.ErrorKind;
import dev.pruneserve.error.ServingException;
import dev.pruneserve.graph.ModelBuilder;
import dev.pruneserve.onnx.proto.Onnx.AttributeProto;
import dev.pruneserve.onnx.proto.Onnx.GraphProto;
import dev.pruneserve.onnx.proto.Onnx.ModelProto;
import dev.pruneserve.onnx.proto.Onnx.NodeProto;
import dev.pruneserve.session.ModelSession;
import dev.pruneserve.tensor.DataType;
import dev.pruneserve.tensor.Tensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A run past pruneserve.ort.run-timeout is stopped and answered DEADLINE_EXCEEDED (the fuzz
 * bench's hang: a Loop whose trip count comes from the request), and the session keeps serving.
 */
class RunDeadlineTest {
  @TempDir Path dir;

  /** v_out = v + 1, M times. */
  static ModelProto loop() {
    GraphProto body = GraphProto.newBuilder().setName("body")
        .addInput(ModelBuilder.valueInfo("i", 7)).addInput(ModelBuilder.valueInfo("c", 9))
        .addInput(ModelBuilder.valueInfo("v", 1, 1))
        .addOutput(ModelBuilder.valueInfo("c_out", 9)).addOutput(ModelBuilder.valueInfo("v_out", 1, 1))
        .addNode(NodeProto.newBuilder().setOpType("Identity").addInput("c").addOutput("c_out"))
        .addNode(NodeProto.newBuilder().setOpType("Add").addInput("v").addInput("one").addOutput("v_out"))
        .addInitializer(dev.pruneserve.onnx.proto.Onnx.TensorProto.newBuilder().setName("one").setDataType(1)
            .addDims(1).addFloatData(1f))
        .build();
    return new ModelBuilder("loop").input("M", 7).input("cond", 9).input("v0", 1, 1).output("v", 1, 1)
        .node("Loop", new String[] {"M", "cond", "v0"}, new String[] {"v"}, AttributeProto.newBuilder()
            .setName("body").setType(AttributeProto.AttributeType.GRAPH).setG(body).build())
        .build();
  }

  static Map<String, Tensor> inputs(long m) {
    ByteBuffer trips = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, m);
    ByteBuffer cond = ByteBuffer.allocate(1).put(0, (byte) 1);
    return Map.of("M", Tensor.fixed("M", DataType.INT64, new long[] {}, trips), "cond",
        Tensor.fixed("cond", DataType.BOOL, new long[] {}, cond), "v0", Tensor.fp32("v0", new long[] {1},
            new float[] {0}));
  }

  @Test
  void aRunPastTheTimeoutIsStoppedAndTheSessionKeepsServing() throws Exception {
    Path file = dir.resolve("loop.onnx");
    Files.write(file, loop().toByteArray());
    try (ModelSession s = OrtRuntime.cpu(1, Duration.ofMillis(500)).load("loop/1", file)) {
      assertEquals(3f, s.run(inputs(3), Set.of("v")).get("v").toFloatArray()[0], "3 trips");
      ServingException e = assertThrows(ServingException.class, () -> s.run(inputs(Long.MAX_VALUE), Set.of("v")));
      assertEquals(ErrorKind.DEADLINE_EXCEEDED, e.kind(), e.getMessage());
      assertTrue(e.getMessage().contains("pruneserve.ort.run-timeout"), e.getMessage());
      assertEquals(5f, s.run(inputs(5), Set.of("v")).get("v").toFloatArray()[0], "still serving");
    }
  }
}
