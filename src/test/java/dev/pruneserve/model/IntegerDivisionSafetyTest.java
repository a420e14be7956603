package dev.pruneserve.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pruneserve.error.ErrorKind;
import dev.pruneserve.error.ServingException;
import dev.pruneserve.graph.ModelBuilder;
import dev.pruneserve.graph.NativeHazards;
import dev.pruneserve.onnx.proto.Onnx.AttributeProto;
import dev.pruneserve.onnx.proto.Onnx.GraphProto;
import dev.pruneserve.onnx.proto.Onnx.ModelProto;
import dev.pruneserve.onnx.proto.Onnx.NodeProto;
import dev.pruneserve.onnx.proto.Onnx.TensorProto;
import dev.pruneserve.repository.ModelRepository;
import dev.pruneserve.runtime.OrtRuntime;
import dev.pruneserve.tensor.DataType;
import dev.pruneserve.tensor.Tensor;
import dev.pruneserve.testing.TestModels;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An integer Div whose divisor is a request input (warm-up on) loads, and a zero divisor — which
 * raises SIGFPE inside ONNX Runtime and would kill this JVM — is refused with INVALID_ARGUMENT
 * while the model keeps serving; a divisor computed in the graph is refused at load unless
 * config.json allows it. Without the guard this test crashes the test JVM.
 */
class IntegerDivisionSafetyTest {
  @TempDir Path root;

  static ModelProto div(int type) {
    return new ModelBuilder("div").input("a", type, 1).input("b", type, 1).output("y", type, 1)
        .node("Div", new String[] {"a", "b"}, new String[] {"y"}).build();
  }

  /** y = a / (b - c): the divisor is computed, so no request check can keep it non-zero. */
  static ModelProto computedDivisor() {
    return new ModelBuilder("div2").input("a", 6, 1).input("b", 6, 1).input("c", 6, 1).output("y", 6, 1)
        .node("Sub", new String[] {"b", "c"}, new String[] {"d"})
        .node("Div", new String[] {"a", "d"}, new String[] {"y"}).build();
  }

  static Tensor int32(String name, int v) {
    ByteBuffer b = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(0, v);
    return Tensor.fixed(name, DataType.INT32, new long[] {1}, b);
  }

  @Test
  void aZeroDivisorFromARequestIsRefusedAndTheModelKeepsServing() throws Exception {
    TestModels.write(root, "div", 1, div(6));
    ModelRegistry registry = new ModelRegistry(new ModelRepository(root), OrtRuntime.cpu(1), Warmup::run);
    registry.load("div"); // warm-up on: feeds ones to the divisor
    try (Lease l = registry.acquire("div", "")) {
      ServingException e = assertThrows(ServingException.class,
          () -> l.session().run(Map.of("a", int32("a", 7), "b", int32("b", 0)), Set.of("y")));
      assertEquals(ErrorKind.INVALID_ARGUMENT, e.kind());
      assertTrue(e.getMessage().contains("input 'b' holds 0"), e.getMessage());
      ServingException overflow = assertThrows(ServingException.class, () -> l.session().run(Map.of("a",
          int32("a", Integer.MIN_VALUE), "b", int32("b", -1)), Set.of("y")));
      assertTrue(overflow.getMessage().contains("-1"), overflow.getMessage());
      Tensor y = l.session().run(Map.of("a", int32("a", 7), "b", int32("b", 2)), Set.of("y")).get("y");
      assertArrayEquals(new long[] {1}, y.shape());
      assertEquals(3, y.dataView().getInt(0), "still serving: 7 / 2");
      ServingException carried = assertThrows(ServingException.class,
          () -> l.session().openCarryRun(Map.of("y", "b"), Map.of("a", int32("a", 7), "b", int32("b", 2))));
      assertEquals(ErrorKind.FAILED_PRECONDITION, carried.kind(), "y / b fed back into b could reach 0 unseen");
    }
  }

  @Test
  void aComputedIntegerDivisorIsRefusedAtLoadUnlessAllowed() throws Exception {
    TestModels.write(root, "div2", 1, computedDivisor());
    ModelRegistry registry = new ModelRegistry(new ModelRepository(root), OrtRuntime.cpu(1), Warmup::run);
    ServingException e = assertThrows(ServingException.class, () -> registry.load("div2"));
    assertEquals(ErrorKind.FAILED_PRECONDITION, e.kind());
    assertTrue(e.getMessage().contains("Div node") && e.getMessage().contains("allow_unguarded_native_ops"),
        e.getMessage());
    TestModels.writeText(root.resolve("div2/config.json"), "{\"allow_unguarded_native_ops\": true,"
        + " \"warmup\": false}");
    registry.load("div2");
    assertTrue(registry.isReady("div2", ""));
  }

  /** Trilu's k from a request (the fuzz bench's crash: an extreme k segfaults ORT) is bounded. */
  @Test
  void anExtremeTriluKIsRefusedAndMaxUnpoolIndicesFromInputsAreRefusedAtLoad() throws Exception {
    ModelProto trilu = new ModelBuilder("t").input("x", 1, 3, 3).input("k", 7).output("y", 1, 3, 3)
        .node("Trilu", new String[] {"x", "k"}, new String[] {"y"}).build();
    TestModels.write(root, "trilu", 1, trilu);
    ModelRegistry registry = new ModelRegistry(new ModelRepository(root), OrtRuntime.cpu(1), Warmup::run);
    registry.load("trilu");
    try (Lease l = registry.acquire("trilu", "")) {
      ByteBuffer k = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, Long.MIN_VALUE);
      Map<String, Tensor> in = Map.of("x", Tensor.fp32("x", new long[] {3, 3}, new float[9]), "k",
          Tensor.fixed("k", DataType.INT64, new long[] {}, k));
      ServingException e = assertThrows(ServingException.class, () -> l.session().run(in, Set.of("y")));
      assertEquals(ErrorKind.INVALID_ARGUMENT, e.kind());
      assertTrue(e.getMessage().contains("input 'k' of Trilu node"), e.getMessage());
    }
    ModelProto unpool = new ModelBuilder("u").input("x", 1, 1, 1, 2, 2).input("i", 7, 1, 1, 2, 2)
        .output("y", 1, 1, 1, 4, 4).node("MaxUnpool", new String[] {"x", "i"}, new String[] {"y"},
            ModelBuilder.intsAttr("kernel_shape", 2, 2), ModelBuilder.intsAttr("strides", 2, 2))
        .build();
    assertTrue(NativeHazards.analyse(unpool).unguarded().get(0).contains("MaxUnpool node"));
    ModelProto pooled = new ModelBuilder("p").input("x", 1, 1, 1, 4, 4).output("y", 1, 1, 1, 4, 4)
        .node("MaxPool", new String[] {"x"}, new String[] {"m", "i"}, ModelBuilder.intsAttr("kernel_shape", 2, 2),
            ModelBuilder.intsAttr("strides", 2, 2))
        .node("MaxUnpool", new String[] {"m", "i"}, new String[] {"y"}, ModelBuilder.intsAttr("kernel_shape", 2, 2),
            ModelBuilder.intsAttr("strides", 2, 2))
        .build();
    assertTrue(NativeHazards.analyse(pooled).safe(), "a MaxPool's own indices are in range by construction");
  }

  @Test
  void floatDivisionsAndConstantDivisorsNeedNoGuard() {
    NativeHazards.Report f = NativeHazards.analyse(div(1));
    assertTrue(f.safe() && f.guards().isEmpty(), "float division by zero is IEEE, no trap");
    ModelProto constant = new ModelBuilder("c").input("a", 7, 1).output("y", 7, 1)
        .initializer("k", new long[] {4}, 1).node("Div", new String[] {"a", "k"}, new String[] {"y"}).build();
    NativeHazards.Report c = NativeHazards.analyse(constant);
    assertTrue(c.safe() && c.guards().isEmpty(), c.toString());
    ModelProto zero = new ModelBuilder("z").input("a", 7, 1).output("y", 7, 1)
        .initializer("k", new long[] {0}, 1).node("Mod", new String[] {"a", "k"}, new String[] {"y"}).build();
    assertTrue(NativeHazards.analyse(zero).unguarded().get(0).contains("constant zero"));
    assertEquals(1, NativeHazards.analyse(div(7)).guards().size());
  }

  /** If(cond) { a / b } else { a / 2 }: the branch divides by an outer input, which a subgraph cannot guard. */
  @Test
  void divisionsInsideSubgraphsPassOnlyWithConstantDivisors() {
    GraphProto byInput = GraphProto.newBuilder().setName("then").addOutput(ModelBuilder.valueInfo("t", 7, 1))
        .addNode(NodeProto.newBuilder().setOpType("Div").setName("inner_div").addInput("a").addInput("b")
            .addOutput("t"))
        .build();
    GraphProto byTwo = GraphProto.newBuilder().setName("else").addOutput(ModelBuilder.valueInfo("e", 7, 1))
        .addInitializer(TensorProto.newBuilder().setName("two").setDataType(7).addDims(1).addInt64Data(2))
        .addNode(NodeProto.newBuilder().setOpType("Div").setName("safe_div").addInput("a").addInput("two")
            .addOutput("e"))
        .build();
    ModelProto model = new ModelBuilder("if").input("c", 9).input("a", 7, 1).input("b", 7, 1).output("y", 7, 1)
        .node("If", new String[] {"c"}, new String[] {"y"}, graphAttr("then_branch", byInput),
            graphAttr("else_branch", byTwo))
        .build();
    NativeHazards.Report r = NativeHazards.analyse(model);
    assertEquals(1, r.unguarded().size(), r.toString());
    assertTrue(r.unguarded().get(0).contains("inner_div") && r.unguarded().get(0).contains("'then_branch' subgraph"),
        r.why());
    assertTrue(r.guards().isEmpty(), "nothing inside a subgraph is guardable");
  }

  private static AttributeProto graphAttr(String name, GraphProto g) {
    return AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.GRAPH).setG(g).build();
  }
}
