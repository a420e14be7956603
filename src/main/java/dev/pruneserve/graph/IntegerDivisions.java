package dev.pruneserve.graph;

import dev.pruneserve.onnx.proto.Onnx.AttributeProto;
import dev.pruneserve.onnx.proto.Onnx.GraphProto;
import dev.pruneserve.onnx.proto.Onnx.ModelProto;
import dev.pruneserve.onnx.proto.Onnx.NodeProto;
import dev.pruneserve.onnx.proto.Onnx.TensorProto;
import dev.pruneserve.onnx.proto.Onnx.ValueInfoProto;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Integer {@code Div} and {@code Mod} nodes of a graph and where their divisors come from. An
 * integer division by zero (or of the type's minimum by −1) raises SIGFPE inside ONNX Runtime, which
 * kills the JVM, so a server must know before running: a constant divisor without 0 and −1 is
 * safe; a divisor that is a graph input can be checked per request ({@link Guard}); a divisor
 * computed in the graph cannot, and is reported ({@link Report#unguarded}). Element types are
 * propagated from inputs, initializers, Constant nodes and value_info through the ops whose output
 * type is known; a Div/Mod of unknown type is treated as floating point (recorded as a gap in
 * docs). Subgraphs (If/Loop bodies) are not analysed. Stateless.
 */
public final class IntegerDivisions {
  private static final Set<Integer> INTEGER = Set.of(2, 3, 4, 5, 6, 7, 12, 13);
  private static final Set<Integer> SIGNED = Set.of(3, 5, 6, 7);
  private static final Set<String> TO_INT64 = Set.of("Shape", "Size", "NonZero", "ArgMax", "ArgMin",
      "NonMaxSuppression");
  private static final Set<String> TO_BOOL = Set.of("Equal", "Less", "Greater", "LessOrEqual", "GreaterOrEqual", "Not",
      "And", "Or", "Xor", "IsNaN", "IsInf");

  /**
   * A graph input feeding an integer divisor directly: requests must not carry 0 in it, nor −1
   * when the type is signed and {@code dividend} (a graph input, or null when constant/computed)
   * may hold the type's minimum.
   */
  public record Guard(String input, String node, String op, int elementType, String dividend) {
    public boolean signed() {
      return SIGNED.contains(elementType);
    }
  }

  /** @param unguarded human-readable reasons naming each node whose divisor cannot be checked */
  public record Report(List<Guard> guards, List<String> unguarded) {
    public boolean safe() {
      return unguarded.isEmpty();
    }
  }

  private IntegerDivisions() {}

  public static Report analyse(ModelProto model) {
    GraphProto g = model.getGraph();
    Map<String, Integer> types = new HashMap<>();
    Map<String, TensorProto> constants = new HashMap<>();
    Set<String> inputs = new java.util.HashSet<>();
    for (TensorProto t : g.getInitializerList()) {
      types.put(t.getName(), t.getDataType());
      constants.put(t.getName(), t);
    }
    for (ValueInfoProto v : g.getInputList()) {
      if (!constants.containsKey(v.getName())) {
        inputs.add(v.getName());
        types.put(v.getName(), v.getType().getTensorType().getElemType());
      }
    }
    for (ValueInfoProto v : g.getValueInfoList()) {
      types.putIfAbsent(v.getName(), v.getType().getTensorType().getElemType());
    }
    List<Guard> guards = new ArrayList<>();
    List<String> unguarded = new ArrayList<>();
    for (NodeProto n : g.getNodeList()) {
      if (n.getOpType().equals("Constant") && n.getOutputCount() == 1) {
        attribute(n, "value").filter(a -> a.hasT()).ifPresent(a -> {
          types.put(n.getOutput(0), a.getT().getDataType());
          constants.put(n.getOutput(0), a.getT());
        });
      }
      if ((n.getOpType().equals("Div") || n.getOpType().equals("Mod")) && n.getInputCount() == 2
          && n.getDomain().isEmpty()) {
        Integer type = types.getOrDefault(n.getInput(1), types.get(n.getInput(0)));
        if (type != null && INTEGER.contains(type)) {
          classify(n, type, inputs, constants, guards, unguarded);
        }
      }
      Integer out = outputType(n, types);
      if (out != null) {
        for (String o : n.getOutputList()) {
          types.putIfAbsent(o, out);
        }
      }
    }
    return new Report(List.copyOf(guards), List.copyOf(unguarded));
  }

  private static void classify(NodeProto n, int type, Set<String> inputs, Map<String, TensorProto> constants,
      List<Guard> guards, List<String> unguarded) {
    String divisor = n.getInput(1);
    String label = n.getOpType() + " node '" + n.getName() + "'";
    if (constants.containsKey(divisor)) {
      long[] v = integers(constants.get(divisor));
      boolean zero = v == null || java.util.Arrays.stream(v).anyMatch(x -> x == 0);
      boolean minusOne = v != null && SIGNED.contains(type) && java.util.Arrays.stream(v).anyMatch(x -> x == -1);
      if (zero) {
        unguarded.add(label + " divides by a constant zero (or a constant it cannot read)");
      } else if (minusOne && !constants.containsKey(n.getInput(0))) {
        unguarded.add(label + " divides by a constant -1: the type's minimum as dividend would crash");
      }
    } else if (inputs.contains(divisor)) {
      guards.add(new Guard(divisor, n.getName(), n.getOpType(), type, inputs.contains(n.getInput(0)) ? n.getInput(0)
          : null));
      if (SIGNED.contains(type) && !inputs.contains(n.getInput(0)) && !constants.containsKey(n.getInput(0))) {
        unguarded.add(label + " divides a computed value by input '" + divisor + "': -1 with the type's minimum"
            + " would crash");
      }
    } else {
      unguarded.add(label + " divides by '" + divisor + "', computed in the graph from values that can be zero");
    }
  }

  /** Output element type of {@code n} where it follows from the op and its inputs, else null. */
  private static Integer outputType(NodeProto n, Map<String, Integer> types) {
    String op = n.getOpType();
    if (op.equals("Cast")) {
      return attribute(n, "to").map(a -> (int) a.getI()).orElse(null);
    }
    if (TO_INT64.contains(op)) {
      return 7;
    }
    if (TO_BOOL.contains(op)) {
      return 9;
    }
    if (op.equals("ConstantOfShape")) {
      return attribute(n, "value").filter(a -> a.hasT()).map(a -> a.getT().getDataType()).orElse(1);
    }
    if (op.equals("Where") && n.getInputCount() == 3) {
      return types.get(n.getInput(1));
    }
    return n.getInputCount() > 0 ? types.get(n.getInput(0)) : null;
  }

  private static Optional<AttributeProto> attribute(NodeProto n, String name) {
    return n.getAttributeList().stream().filter(a -> a.getName().equals(name)).findFirst();
  }

  /** The values of an integer tensor (raw or typed fields), or null when they cannot be read. */
  static long[] integers(TensorProto t) {
    if (t.hasRawData()) {
      ByteBuffer b = t.getRawData().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
      int width = switch (t.getDataType()) {
        case 2, 3 -> 1;
        case 4, 5 -> 2;
        case 6, 12 -> 4;
        case 7, 13 -> 8;
        default -> 0;
      };
      if (width == 0) {
        return null;
      }
      long[] out = new long[b.remaining() / width];
      for (int i = 0; i < out.length; i++) {
        out[i] = switch (width) {
          case 1 -> t.getDataType() == 2 ? b.get() & 0xff : b.get();
          case 2 -> t.getDataType() == 4 ? b.getShort() & 0xffff : b.getShort();
          case 4 -> t.getDataType() == 12 ? b.getInt() & 0xffffffffL : b.getInt();
          default -> b.getLong();
        };
      }
      return out;
    }
    if (t.getInt64DataCount() > 0) {
      return t.getInt64DataList().stream().mapToLong(Long::longValue).toArray();
    }
    if (t.getInt32DataCount() > 0) {
      return t.getInt32DataList().stream().mapToLong(Integer::longValue).toArray();
    }
    if (t.getUint64DataCount() > 0) {
      return t.getUint64DataList().stream().mapToLong(Long::longValue).toArray();
    }
    return t.hasDataLocation() && t.getDataLocation() == TensorProto.DataLocation.EXTERNAL ? null : new long[0];
  }
}
