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
 * Operands of a graph that can crash ONNX Runtime's native kernels, and where they come from: an
 * integer {@code Div}/{@code Mod} by zero (or of the type's minimum by −1) raises SIGFPE; an extreme
 * {@code Trilu} k and out-of-range {@code MaxUnpool} indices crash (found by the fuzz bench). Any of
 * them kills the JVM, so a server must know before running: constants (divisors without 0 and −1)
 * are safe; an operand that is a graph input is checked per request ({@link Guard}); one computed
 * in the graph cannot be, and is reported ({@link Report#unguarded}). Element types are
 * propagated from inputs, initializers, Constant nodes and value_info through the ops whose output
 * type is known; a Div/Mod of unknown type is treated as floating point (recorded as a gap in
 * docs). Subgraphs (If/Loop/Scan bodies) are analysed with the outer names in scope, but nothing
 * in them is guardable (their inputs are iteration values): only constants pass. Stateless.
 */
public final class NativeHazards {
  private static final Set<Integer> INTEGER = Set.of(2, 3, 4, 5, 6, 7, 12, 13);
  private static final Set<Integer> SIGNED = Set.of(3, 5, 6, 7);
  private static final Set<String> TO_INT64 = Set.of("Shape", "Size", "NonZero", "ArgMax", "ArgMin",
      "NonMaxSuppression");
  private static final Set<String> TO_BOOL = Set.of("Equal", "Less", "Greater", "LessOrEqual", "GreaterOrEqual", "Not",
      "And", "Or", "Xor", "IsNaN", "IsInf");

  /** What a guarded input must not hold. */
  public enum Kind {
    /** An integer divisor: no 0, and no −1 against the type's minimum. */
    DIVISOR,
    /** Trilu's k: |k| at most {@link #MAX_TRILU_K} (extreme values crash ONNX Runtime's kernel). */
    BOUNDED
  }

  /** The largest |k| a Trilu may be given from a request. */
  public static final long MAX_TRILU_K = 1L << 30;

  /**
   * A graph input feeding a hazardous operand directly. DIVISOR: requests must not carry 0 in it,
   * nor −1 when the type is signed and {@code dividend} (a graph input, or null when
   * constant/computed) may hold the type's minimum. BOUNDED: |value| ≤ {@link #MAX_TRILU_K}.
   */
  public record Guard(Kind kind, String input, String node, String op, int elementType, String dividend) {
    public boolean signed() {
      return SIGNED.contains(elementType);
    }
  }

  /** @param unguarded human-readable reasons naming each node whose divisor cannot be checked */
  public record Report(List<Guard> guards, List<String> unguarded) {
    public boolean safe() {
      return unguarded.isEmpty();
    }

    /** The reasons, for a refusal message. */
    public String why() {
      return String.join("; ", unguarded);
    }
  }

  private NativeHazards() {}

  public static Report analyse(ModelProto model) {
    List<Guard> guards = new ArrayList<>();
    List<String> unguarded = new ArrayList<>();
    walk(model.getGraph(), new HashMap<>(), new HashMap<>(), true, guards, unguarded);
    return new Report(List.copyOf(guards), List.copyOf(unguarded));
  }

  /**
   * Analyses {@code g} with the outer scope's {@code types} and {@code constants} (copied, then
   * extended); {@code topLevel}: whether its inputs are request inputs (guardable).
   */
  private static void walk(GraphProto g, Map<String, Integer> outerTypes, Map<String, TensorProto> outerConstants,
      boolean topLevel, List<Guard> guards, List<String> unguarded) {
    Map<String, Integer> types = new HashMap<>(outerTypes);
    Map<String, TensorProto> constants = new HashMap<>(outerConstants);
    Set<String> inputs = new java.util.HashSet<>();
    Set<String> initializers = new java.util.HashSet<>();
    for (TensorProto t : g.getInitializerList()) {
      types.put(t.getName(), t.getDataType());
      constants.put(t.getName(), t);
      initializers.add(t.getName());
    }
    for (ValueInfoProto v : g.getInputList()) {
      if (!initializers.contains(v.getName())) {
        constants.remove(v.getName()); // a subgraph input shadows an outer name
        inputs.add(v.getName());
        types.put(v.getName(), v.getType().getTensorType().getElemType());
      }
    }
    if (!topLevel) {
      inputs.clear(); // iteration values: nothing here can be checked per request
    }
    for (ValueInfoProto v : g.getValueInfoList()) {
      types.putIfAbsent(v.getName(), v.getType().getTensorType().getElemType());
    }
    Map<String, NodeProto> producers = new HashMap<>();
    for (NodeProto n : g.getNodeList()) {
      operands(n, inputs, constants, producers, guards, unguarded);
      if (n.getOpType().equals("Constant") && n.getOutputCount() == 1
          && (attribute(n, "value_int").isPresent() || attribute(n, "value_ints").isPresent())) {
        types.put(n.getOutput(0), 7);
      }
      if (n.getOpType().equals("Constant") && n.getOutputCount() == 1) {
        attribute(n, "value").filter(a -> a.hasT()).ifPresent(a -> {
          types.put(n.getOutput(0), a.getT().getDataType());
          constants.put(n.getOutput(0), a.getT());
        });
      }
      if ((n.getOpType().equals("Div") || n.getOpType().equals("Mod")) && n.getInputCount() == 2
          && (n.getDomain().isEmpty() || n.getDomain().equals("ai.onnx"))) {
        Integer t1 = types.get(n.getInput(1));
        Integer t0 = types.get(n.getInput(0));
        Integer type = t1 != null && INTEGER.contains(t1) ? t1 : t0 != null && INTEGER.contains(t0) ? t0 : null;
        if (type != null) { // either operand integer: the kernel is an integer one
          classify(n, type, inputs, constants, guards, unguarded);
        }
      }
      for (AttributeProto a : n.getAttributeList()) {
        List<GraphProto> bodies = a.hasG() ? List.of(a.getG()) : a.getGraphsList();
        for (GraphProto body : bodies) {
          List<String> inner = new ArrayList<>();
          walk(body, types, constants, false, new ArrayList<>(), inner);
          inner.forEach(r -> unguarded.add(r + " (in the '" + a.getName() + "' subgraph of " + n.getOpType()
              + " node '" + n.getName() + "')"));
        }
      }
      n.getOutputList().forEach(o -> producers.put(o, n));
      Integer out = outputType(n, types);
      if (out != null) {
        for (String o : n.getOutputList()) {
          types.putIfAbsent(o, out);
        }
      }
    }
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
      guards.add(new Guard(Kind.DIVISOR, divisor, n.getName(), n.getOpType(), type, inputs.contains(n.getInput(0))
          ? n.getInput(0) : null));
      if (SIGNED.contains(type) && !inputs.contains(n.getInput(0)) && !constants.containsKey(n.getInput(0))) {
        unguarded.add(label + " divides a computed value by input '" + divisor + "': -1 with the type's minimum"
            + " would crash");
      }
    } else {
      unguarded.add(label + " divides by '" + divisor + "', computed in the graph from values that can be zero");
    }
  }

  /**
   * Operands whose values ONNX Runtime's kernels trust (fuzzing found crashes): Trilu's k (extreme
   * values) and MaxUnpool's indices (out of range) — guarded when they are inputs, fine when
   * constant or MaxPool's own indices, else refused.
   */
  private static void operands(NodeProto n, Set<String> inputs, Map<String, TensorProto> constants,
      Map<String, NodeProto> producers, List<Guard> guards, List<String> unguarded) {
    if (!(n.getDomain().isEmpty() || n.getDomain().equals("ai.onnx")) || n.getInputCount() < 2
        || n.getInput(1).isEmpty()) {
      return;
    }
    String operand = n.getInput(1);
    String label = n.getOpType() + " node '" + n.getName() + "'";
    if (n.getOpType().equals("Trilu") && !constants.containsKey(operand)) {
      if (inputs.contains(operand)) {
        guards.add(new Guard(Kind.BOUNDED, operand, n.getName(), n.getOpType(), 7, null));
      } else {
        unguarded.add(label + " takes k computed in the graph; an extreme k crashes the runtime");
      }
    } else if (n.getOpType().equals("MaxUnpool") && !constants.containsKey(operand)) {
      NodeProto p = producers.get(operand);
      boolean poolIndices = p != null && p.getOpType().equals("MaxPool") && p.getOutputCount() > 1
          && p.getOutput(1).equals(operand);
      if (!poolIndices) {
        unguarded.add(label + " reads indices that are not a MaxPool's own; out-of-range indices crash the"
            + " runtime");
      }
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
