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
import dev.pruneserve.onnx.proto.Onnx.NodeProto;
import dev.pruneserve.onnx.proto.Onnx.TensorProto;
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

  /** position_ids = Unsqueeze(Range(past, past + seq)) from the cache length and input_ids. */
  static ModelProto withoutPositionIds(ModelProto m) {
    GraphProto.Builder g = m.getGraph().toBuilder();
    for (int i = 0; i < g.getInputCount(); i++) {
      if (g.getInput(i).getName().equals("position_ids")) {
        g.removeInput(i);
        break;
      }
    }
    g.addInitializer(scalar("pos.two", 2)).addInitializer(scalar("pos.one", 1))
        .addInitializer(TensorProto.newBuilder().setName("pos.axes").setDataType(7).addDims(1).addInt64Data(0));
    NodeProto[] nodes = {node("Shape", "pos.pk", "past_key_values.0.key"), node("Gather", "pos.past", "pos.pk",
        "pos.two"), node("Shape", "pos.si", "input_ids"), node("Gather", "pos.seq", "pos.si", "pos.one"),
        node("Add", "pos.end", "pos.past", "pos.seq"), node("Range", "pos.range", "pos.past", "pos.end", "pos.one"),
        node("Unsqueeze", "position_ids", "pos.range", "pos.axes")};
    GraphProto.Builder out = g.clearNode();
    for (NodeProto n : nodes) {
      out.addNode(n);
    }
    m.getGraph().getNodeList().forEach(out::addNode);
    return m.toBuilder().setGraph(out).build();
  }

  private static TensorProto scalar(String name, long v) {
    return TensorProto.newBuilder().setName(name).setDataType(7).addInt64Data(v).build();
  }

  private static NodeProto node(String op, String out, String... in) {
    NodeProto.Builder b = NodeProto.newBuilder().setOpType(op).setName(out + ".node").addOutput(out);
    for (String i : in) {
      b.addInput(i);
    }
    return b.build();
  }

  private ModelSession load(ModelProto m, String name) throws Exception {
    Path f = dir.resolve(name + ".onnx");
    Files.write(f, m.toByteArray());
    return OrtRuntime.cpu(1).load(name + "/1", f);
  }

  @Test
  void aDecoderWithoutPositionIdsDecodesLikeTheOneWithThem() throws Exception {
    ModelProto plain = GeneratedDecoder.model(dir);
    try (ModelSession a = load(plain, "plain"); ModelSession b = load(withoutPositionIds(plain), "nopos");
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
