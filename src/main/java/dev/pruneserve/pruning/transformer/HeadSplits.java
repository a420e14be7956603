package dev.pruneserve.pruning.transformer;

import dev.pruneserve.graph.OnnxGraph;
import dev.pruneserve.onnx.proto.Onnx.NodeProto;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Traces an attention operand (q, k or v at the QK / PV MatMuls) back to the projection that made
 * it: {@code Transpose(Reshape(MatMul(x, W) [+ b], [.., .., H, hd]))}, optionally through a
 * per-head RMSNorm before the Transpose, then forward of it RoPE, the KV-cache Concat and
 * repeat_kv. Used by {@link HeadDiscovery}; reasons for a failed trace go to {@code why}.
 */
final class HeadSplits {
  private static final Set<String> PASS_THROUGH = Set.of("Add", "Mul", "Neg", "Slice", "Concat", "Transpose", "Sub",
      "Cast");

  private HeadSplits() {}

  /**
   * A q/k/v projection split into heads. {@code shape}: the head-count element of its split shape,
   * null when inferred (−1). {@code repeatQuery}/{@code repeatKv}: for K/V behind repeat_kv, the
   * elements holding the repeated (query) head count and the K/V head count; {@code repeatNodes}
   * the Expand/Reshape nodes that read them.
   */
  record Split(String weight, String bias, ShapeSlot shape, List<String> cache, int heads, int headDim,
      List<ShapeSlot> repeatQuery, List<ShapeSlot> repeatKv, Set<String> repeatNodes, int repeatFactor,
      int repeatedHeads) {
    Split withRepeat(List<String> cacheValues, List<ShapeSlot> query, List<ShapeSlot> kv, Set<String> nodes,
        int[] repeat) {
      return new Split(weight, bias, shape, cacheValues, heads, headDim, query, kv, nodes, repeat[0], repeat[1]);
    }
  }

  /** {@code value}, or what it was cast from (Cast/Identity chains: FP16 models with FP32 cache inputs). */
  private static String throughCasts(OnnxGraph g, String value) {
    String v = value;
    for (Optional<NodeProto> p = g.producer(v); p.isPresent() && (p.get().getOpType().equals("Cast")
        || p.get().getOpType().equals("Identity")); p = g.producer(v)) {
      v = p.get().getInput(0);
    }
    return v;
  }

  /** The values {@code value} is cast to (Cast/Identity chains), e.g. an FP32 present output. */
  private static List<String> castsOf(OnnxGraph g, String value) {
    List<String> out = new ArrayList<>();
    for (NodeProto c : g.consumers(value)) {
      if (c.getOpType().equals("Cast") || c.getOpType().equals("Identity")) {
        out.add(c.getOutput(0));
        out.addAll(castsOf(g, c.getOutput(0)));
      }
    }
    return out;
  }

  /**
   * The head split feeding {@code value}, walking back through RoPE, the KV-cache Concat and
   * repeat_kv (Reshape(Expand(Unsqueeze(kv)))).
   */
  static Optional<Split> trace(OnnxGraph g, String value, List<String> why) {
    List<String> cache = new ArrayList<>();
    List<ShapeSlot> repeatQuery = new ArrayList<>();
    List<ShapeSlot> repeatKv = new ArrayList<>();
    Set<String> repeatNodes = new HashSet<>();
    int[] repeat = new int[2]; // repeat factor and repeated head count of the path's repeat_kv, 0 if none
    Split[] found = new Split[1];
    boolean complete = walkBack(g, value, 64, n -> {
      if (n.getOpType().equals("Transpose")) {
        Optional<Split> s = headSplitBehind(g, n.getInput(0), why);
        if (s.isPresent()) {
          if (found[0] != null && !found[0].weight().equals(s.get().weight())) {
            return null; // two different projections: ambiguous
          }
          found[0] = s.get();
          return List.of();
        }
      }
      if (n.getOpType().equals("Concat")) {
        for (String in : n.getInputList()) {
          String past = throughCasts(g, in);
          if (g.producer(past).isEmpty() && g.initializer(past).isEmpty()) {
            cache.add(past); // the past KV graph input; the Concat's output (or its cast) is the present one
            cache.add(n.getOutput(0));
            cache.addAll(castsOf(g, n.getOutput(0)));
          }
        }
      }
      Optional<String> repeated = repeatKv(g, n, repeatQuery, repeatKv, repeatNodes, repeat, why);
      return repeated.isPresent() ? List.of(repeated.get()) : PASS_THROUGH.contains(n.getOpType())
          ? n.getInputList() : List.of();
    });
    if (!complete || found[0] == null) {
      return Optional.empty();
    }
    return Optional.of(found[0].withRepeat(cache, repeatQuery, repeatKv, repeatNodes, repeat));
  }

  /**
   * Walks from {@code start} towards the graph inputs, each value once and at most {@code limit}
   * of them: {@code visit} gets each value's producer and returns the inputs to follow, or null to
   * abandon the walk (then false is returned).
   */
  private static boolean walkBack(OnnxGraph g, String start, int limit,
      java.util.function.Function<NodeProto, List<String>> visit) {
    Deque<String> todo = new ArrayDeque<>(List.of(start));
    Set<String> seen = new HashSet<>();
    while (!todo.isEmpty() && seen.size() < limit) {
      String v = todo.pop();
      Optional<NodeProto> p = seen.add(v) ? g.producer(v) : Optional.empty();
      if (p.isPresent()) {
        List<String> next = visit.apply(p.get());
        if (next == null) {
          return false;
        }
        next.forEach(todo::push);
      }
    }
    return true;
  }

  /**
   * transformers' repeat_kv: {@code Reshape(Expand(Unsqueeze(x, axis 2), [b, KV, rep, t, hd]),
   * [b, KV·rep, t, hd])}. Records the shape elements holding KV·rep (query) and KV (when the
   * Expand names it rather than broadcasting from 1) and returns x.
   */
  private static Optional<String> repeatKv(OnnxGraph g, NodeProto reshape, List<ShapeSlot> query,
      List<ShapeSlot> kv, Set<String> nodes, int[] repeat, List<String> why) {
    if (!reshape.getOpType().equals("Reshape")) {
      return Optional.empty();
    }
    Optional<NodeProto> expand = g.producer(reshape.getInput(0)).filter(n -> n.getOpType().equals("Expand"));
    Optional<NodeProto> unsq = expand.flatMap(e -> g.producer(e.getInput(0)))
        .filter(n -> n.getOpType().equals("Unsqueeze"));
    if (unsq.isEmpty()) {
      return Optional.empty();
    }
    Optional<ShapeSlot.Vector> to = ShapeSlot.resolve(g, reshape.getInput(1));
    Optional<ShapeSlot.Vector> ex = ShapeSlot.resolve(g, expand.get().getInput(1));
    if (to.isEmpty() || ex.isEmpty() || to.get().values().length != 4 || ex.get().values().length != 5
        || to.get().slots()[1] == null || to.get().values()[1] <= 0 || ex.get().slots()[2] == null
        || ex.get().values()[2] <= 0) {
      why.add("repeat_kv at Reshape '" + reshape.getName() + "': the repeated head count or the Expand's repeat"
          + " factor is not a constant");
      return Optional.empty();
    }
    long kvNamed = ex.get().values()[1];
    if (!unsqueezesAxis2(g, unsq.get()) || (kvNamed > 1 && kvNamed * ex.get().values()[2] != to.get().values()[1])) {
      why.add("repeat_kv at Reshape '" + reshape.getName() + "' is not [b, KV, 1, t, hd] -> [b, KV, rep, t, hd] ->"
          + " [b, KV*rep, t, hd] (the query heads of a K/V head must be consecutive)");
      return Optional.empty();
    }
    repeat[0] = (int) ex.get().values()[2];
    repeat[1] = (int) to.get().values()[1];
    query.add(to.get().slots()[1]);
    if (ex.get().slots()[1] != null && ex.get().values()[1] > 1) {
      kv.add(ex.get().slots()[1]);
    }
    nodes.add(reshape.getOutput(0));
    nodes.add(expand.get().getOutput(0));
    return Optional.of(unsq.get().getInput(0));
  }

  private static boolean unsqueezesAxis2(OnnxGraph g, NodeProto unsq) {
    for (var a : unsq.getAttributeList()) {
      if (a.getName().equals("axes")) {
        return a.getIntsCount() == 1 && a.getInts(0) == 2;
      }
    }
    Optional<long[]> axes = unsq.getInputCount() > 1 ? ShapeSlot.ints(g, unsq.getInput(1)) : Optional.empty();
    return axes.isPresent() && axes.get().length == 1 && axes.get()[0] == 2;
  }

  /** Ops a per-head norm between the head split and its Transpose may use (Qwen3's q/k RMSNorm). */
  private static final Set<String> NORM_OPS = Set.of("Mul", "Div", "Add", "Pow", "Sqrt", "Reciprocal", "ReduceMean",
      "Cast");

  /**
   * The head split whose output {@code value} is, directly or through a per-head RMSNorm (every
   * reduction over the last axis only, so the norm's weight [hd] is shared by all heads).
   */
  private static Optional<Split> headSplitBehind(OnnxGraph g, String value, List<String> why) {
    NodeProto[] reshape = new NodeProto[1];
    boolean complete = walkBack(g, value, 16, n -> {
      if (n.getOpType().equals("Reshape")) {
        if (reshape[0] != null && !reshape[0].getOutput(0).equals(n.getOutput(0))) {
          return null;
        }
        reshape[0] = n;
        return List.of();
      }
      if (!NORM_OPS.contains(n.getOpType()) || (n.getOpType().equals("ReduceMean") && !lastAxisOnly(g, n))) {
        return null;
      }
      return n.getInputList().stream().filter(in -> g.initializer(in).isEmpty() && g.constant(in).isEmpty()).toList();
    });
    return !complete || reshape[0] == null ? Optional.empty() : headSplit(g, reshape[0], why);
  }

  private static boolean lastAxisOnly(OnnxGraph g, NodeProto reduce) {
    for (var a : reduce.getAttributeList()) {
      if (a.getName().equals("axes")) {
        return a.getIntsCount() == 1 && (a.getInts(0) == -1 || a.getInts(0) == 3);
      }
    }
    if (reduce.getInputCount() > 1) { // opset 18: axes as an input
      Optional<long[]> axes = ShapeSlot.ints(g, reduce.getInput(1));
      return axes.isPresent() && axes.get().length == 1 && (axes.get()[0] == -1 || axes.get()[0] == 3);
    }
    return false;
  }

  /**
   * Reshape(MatMul(x, W [D, H·hd]) [+ b [H·hd]], […, H, hd]) with constant H and hd (the shape an
   * initializer, or a Concat of dynamic batch/sequence pieces and constants).
   */
  private static Optional<Split> headSplit(OnnxGraph g, NodeProto reshape, List<String> why) {
    Optional<ShapeSlot.Vector> shape = ShapeSlot.resolve(g, reshape.getInput(1));
    if (shape.isEmpty() || shape.get().values().length != 4) {
      why.add("Reshape '" + reshape.getName() + "': its shape is not a constant 4-vector");
      return Optional.empty();
    }
    long[] v = shape.get().values();
    String bias = null;
    Optional<NodeProto> mm = g.producer(reshape.getInput(0));
    if (mm.isPresent() && mm.get().getOpType().equals("Add")) {
      NodeProto add = mm.get();
      int side = g.initializer(add.getInput(0)).isPresent() ? 0 : 1;
      bias = add.getInput(side);
      mm = g.producer(add.getInput(1 - side));
      if (g.consumers(add.getInput(1 - side)).size() != 1) {
        return Optional.empty();
      }
    }
    ShapeSlot[] slots = shape.get().slots();
    if (slots[2] == null || slots[3] == null || slots[2].equals(slots[3])) {
      why.add("Reshape '" + reshape.getName() + "': the head count or head size is computed in the graph, not a"
          + " constant");
      return Optional.empty(); // H must be its own constant element (not shared with hd)
    }
    if (v[3] <= 0 || v[2] == 0 || v[2] < -1) {
      why.add("Reshape '" + reshape.getName() + "': head size " + v[3] + " / head count " + v[2]
          + " is not a positive constant");
      return Optional.empty();
    }
    if (mm.isEmpty() || !mm.get().getOpType().equals("MatMul")) {
      why.add("Reshape '" + reshape.getName() + "' does not split a MatMul's output"
          + mm.map(n -> " (it splits a " + n.getOpType() + ")").orElse(""));
      return Optional.empty();
    }
    String w = mm.get().getInput(1);
    int hd = (int) v[3];
    long width = GatedMlpDiscovery.cols(g, w);
    boolean inferred = v[2] == -1; // view(*input_shape, -1, head_dim): H follows from the weight
    int heads = inferred ? (int) (width / hd) : (int) v[2];
    if (width <= 0 || width != (long) heads * hd || (bias != null && length(g, bias) != width)) {
      why.add("projection '" + w + "' is not an initializer [in, " + (inferred ? "H·" + hd : heads * hd) + "]"
          + (g.initializer(w).isEmpty() ? " (computed in the graph, e.g. Transpose(initializer))" : ""));
      return Optional.empty();
    }
    return Optional.of(new Split(w, bias, inferred ? null : slots[2], List.of(), heads, hd, List.of(), List.of(),
        Set.of(), 0, 0));
  }
  private static long length(OnnxGraph g, String name) {
    return g.initializer(name)
        .filter(t -> t.getDimsCount() == 1 && dev.pruneserve.graph.FloatTensors.isFloat(t.getDataType()))
        .map(t -> t.getDims(0))
        .orElse(-1L);
  }
}
