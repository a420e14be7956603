package dev.pruneserve.llm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pruneserve.error.ErrorKind;
import dev.pruneserve.error.ServingException;
import dev.pruneserve.graph.ModelBuilder;
import dev.pruneserve.onnx.proto.Onnx.GraphProto;
import dev.pruneserve.onnx.proto.Onnx.ModelProto;
import dev.pruneserve.runtime.OrtRuntime;
import dev.pruneserve.session.ModelSession;
import dev.pruneserve.testing.GeneratedDecoder;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Optimum-style decoders that compute positions in the graph (no {@code position_ids} input) are
 * fed only what they declare and decode exactly like the form with the input; a decoder declaring
 * an input pruneserve cannot fill is refused when generation opens, naming it.
 */
class DecoderInputsTest {
  @TempDir Path dir;

  private ModelSession load(ModelProto m, String name) throws Exception {
    Path f = dir.resolve(name + ".onnx");
    Files.write(f, m.toByteArray());
    return OrtRuntime.cpu(1).load(name + "/1", f);
  }

  @Test
  void aDecoderWithoutPositionIdsDecodesLikeTheOneWithThem() throws Exception {
    ModelProto plain = GeneratedDecoder.model(dir);
    try (ModelSession a = load(plain, "plain");
        ModelSession b = load(dev.pruneserve.testing.ExportForms.withoutPositionIds(plain), "nopos");
        KvDecoder da = new KvDecoder(a); KvDecoder db = new KvDecoder(b)) {
      assertTrue(b.inputs().stream().noneMatch(s -> s.name().equals("position_ids")));
      assertArrayEquals(da.step(new int[] {1, 5, 9}), db.step(new int[] {1, 5, 9}), 1e-5f, "prefill");
      for (int id : new int[] {7, 3, 11}) {
        assertArrayEquals(da.step(new int[] {id}), db.step(new int[] {id}), 1e-5f, "step after " + da.length());
      }
    }
  }

  @Test
  void anInputThatCannotBeFilledIsNamed() throws Exception {
    ModelProto plain = GeneratedDecoder.model(dir);
    GraphProto g = plain.getGraph().toBuilder().addInput(ModelBuilder.valueInfo("token_type_ids", 7, "batch", "seq"))
        .build();
    try (ModelSession s = load(plain.toBuilder().setGraph(g).build(), "extra")) {
      ServingException e = assertThrows(ServingException.class, () -> new KvDecoder(s));
      assertEquals(ErrorKind.FAILED_PRECONDITION, e.kind());
      assertTrue(e.getMessage().contains("token_type_ids"), e.getMessage());
    }
  }
}
