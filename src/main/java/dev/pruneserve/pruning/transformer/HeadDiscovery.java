package dev.pruneserve.pruning.transformer;

import dev.pruneserve.graph.OnnxGraph;
import dev.pruneserve.onnx.proto.Onnx.NodeProto;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Finds decoder attention blocks by graph pattern, starting from each Softmax:
 * {@code MatMul(Softmax(...MatMul(q, Transpose(k))...), v)} → Transpose → Reshape(merge) →
 * MatMul(·, Wo); q, k and v are traced back (through RoPE's Mul/Add/Neg/Slice/Concat and the
 * KV-cache Concat) to their head-split {@code Transpose(Reshape(MatMul(x, W) [+ b], […, H, hd]))}.
 * Covers decoders (stories15M export) and BERT-style encoders (the MiniLM export: biases, shapes
 * built by Concat of Shape/Gather pieces and Constant nodes, attention mask added before Softmax).
 * A block that does not match exactly is not prunable and is skipped.
 */
public final class HeadDiscovery {
  private static final Set<String> PASS_THROUGH = Set.of("Add", "Mul", "Neg", "Slice", "Concat", "Transpose", "Sub");

  private HeadDiscovery() {}

  public static List<HeadGroup> attentionBlocks(OnnxGraph g) {
    List<HeadGroup> out = new ArrayList<>();
    for (NodeProto softmax : g.nodes()) {
      if (softmax.getOpType().equals("Softmax")) {
        match(g, softmax, out.size()).ifPresent(out::add);
      }
    }
    return out;
  }

  private record Split(String weight, String bias, ShapeSlot shape, List<String> cache, int heads, int headDim) {}

  private static Optional<HeadGroup> match(OnnxGraph g, NodeProto softmax, int index) {
    Optional<NodeProto> pv = g.soleConsumer(softmax.getOutput(0), "MatMul");
    if (pv.isEmpty() || !pv.get().getInput(0).equals(softmax.getOutput(0))) {
      return Optional.empty();
    }
    Optional<NodeProto> tr = g.soleConsumer(pv.get().getOutput(0), "Transpose");
    Optional<NodeProto> merge = tr.flatMap(t -> g.soleConsumer(t.getOutput(0), "Reshape"));
    Optional<NodeProto> oProj = merge.flatMap(m -> g.soleConsumer(m.getOutput(0), "MatMul"));
    Optional<NodeProto> qk = g.producer(softmax.getInput(0)).flatMap(n -> findBack(g, n, "MatMul"));
    if (oProj.isEmpty() || qk.isEmpty()) {
      return Optional.empty();
    }
    Optional<Split> v = split(g, pv.get().getInput(1));
    Optional<Split> q = split(g, qk.get().getInput(0));
    Optional<Split> k = split(g, qk.get().getInput(1));
    if (v.isEmpty() || q.isEmpty() || k.isEmpty()) {
      return Optional.empty();
    }
    int heads = q.get().heads();
    int hd = q.get().headDim();
    if (k.get().heads() != heads || v.get().heads() != heads || k.get().headDim() != hd || v.get().headDim() != hd) {
      return Optional.empty(); // grouped-query attention: not handled yet
    }
    String wo = oProj.get().getInput(1);
    Optional<ShapeSlot.Vector> merged = ShapeSlot.resolve(g, merge.get().getInput(1));
    if (GatedMlpDiscovery.rows(g, wo) != heads * hd || merged.isEmpty() || merged.get().values().length != 3
        || merged.get().values()[2] != (long) heads * hd) {
      return Optional.empty();
    }
    Set<ShapeSlot> shapes = new LinkedHashSet<>(List.of(q.get().shape(), k.get().shape(), v.get().shape()));
    Set<String> projections = Set.of(q.get().weight(), k.get().weight(), v.get().weight());
    for (ShapeSlot s : shapes) {
      if (!onlyReshapes(g, s.tensor(), r -> fedBy(g, r.getInput(0), projections))) {
        return Optional.empty(); // the constant is shared beyond this block: rewriting it would break others
      }
    }
    if (!onlyReshapes(g, merged.get().slots()[2].tensor(),
        r -> g.consumers(r.getOutput(0)).stream().anyMatch(c -> c.getInputCount() > 1 && c.getInput(1).equals(wo)))) {
      return Optional.empty();
    }
    List<String> cache = new ArrayList<>();
    for (Split s : List.of(k.get(), v.get())) {
      cache.addAll(s.cache());
    }
    List<String> biases = new ArrayList<>();
    for (Split s : List.of(q.get(), k.get(), v.get())) {
      if (s.bias() != null) {
        biases.add(s.bias());
      }
    }
    return Optional.of(new HeadGroup(index, q.get().weight(), k.get().weight(), v.get().weight(), wo,
        List.copyOf(biases), List.copyOf(shapes), merged.get().slots()[2], List.copyOf(cache), heads, hd));
  }

  /** The head split feeding {@code value}, walking back through RoPE and KV-cache ops. */
  private static Optional<Split> split(OnnxGraph g, String value) {
    Deque<String> todo = new ArrayDeque<>(List.of(value));
    Set<String> seen = new HashSet<>();
    List<String> cache = new ArrayList<>();
    Split found = null;
    while (!todo.isEmpty() && seen.size() < 64) {
      String v = todo.pop();
      if (!seen.add(v)) {
        continue;
      }
      Optional<NodeProto> p = g.producer(v);
      if (p.isEmpty()) {
        continue;
      }
      NodeProto n = p.get();
      if (n.getOpType().equals("Transpose")) {
        Optional<Split> s = g.producer(n.getInput(0)).filter(r -> r.getOpType().equals("Reshape"))
            .flatMap(r -> headSplit(g, r));
        if (s.isPresent()) {
          if (found != null && !found.weight().equals(s.get().weight())) {
            return Optional.empty(); // two different projections: ambiguous
          }
          found = s.get();
          continue;
        }
      }
      if (n.getOpType().equals("Concat")) {
        for (String in : n.getInputList()) {
          if (g.producer(in).isEmpty() && g.initializer(in).isEmpty()) {
            cache.add(in); // the past KV graph input; the Concat's output is the present one
            cache.add(n.getOutput(0));
          }
        }
      }
      if (PASS_THROUGH.contains(n.getOpType())) {
        n.getInputList().forEach(todo::push);
      }
    }
    if (found == null) {
      return Optional.empty();
    }
    return Optional.of(new Split(found.weight(), found.bias(), found.shape(), cache, found.heads(), found.headDim()));
  }

  /**
   * Reshape(MatMul(x, W [D, H·hd]) [+ b [H·hd]], […, H, hd]) with constant H and hd (the shape an
   * initializer, or a Concat of dynamic batch/sequence pieces and constants).
   */
  private static Optional<Split> headSplit(OnnxGraph g, NodeProto reshape) {
    Optional<ShapeSlot.Vector> shape = ShapeSlot.resolve(g, reshape.getInput(1));
    if (shape.isEmpty() || shape.get().values().length != 4) {
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
    if (slots[2] == null || slots[2].equals(slots[3])) {
      return Optional.empty(); // H must be its own element (not shared with hd)
    }
    if (v[2] <= 0 || v[3] <= 0 || mm.isEmpty() || !mm.get().getOpType().equals("MatMul")) {
      return Optional.empty();
    }
    String w = mm.get().getInput(1);
    int heads = (int) v[2];
    int hd = (int) v[3];
    if (GatedMlpDiscovery.cols(g, w) != heads * hd || (bias != null && length(g, bias) != heads * hd)) {
      return Optional.empty();
    }
    return Optional.of(new Split(w, bias, shape.get().slots()[2], List.of(), heads, hd));
  }

  /**
   * Whether every reader of the constant {@code tensor} is a Reshape (directly or through the
   * Concat that builds its shape) accepted by {@code owned}.
   */
  private static boolean onlyReshapes(OnnxGraph g, String tensor, java.util.function.Predicate<NodeProto> owned) {
    for (NodeProto c : g.consumers(tensor)) {
      boolean concat = c.getOpType().equals("Concat");
      String shape = concat ? c.getOutput(0) : tensor;
      for (NodeProto r : concat ? g.consumers(shape) : List.of(c)) {
        if (!r.getOpType().equals("Reshape") || !r.getInput(1).equals(shape) || !owned.test(r)) {
          return false;
        }
      }
    }
    return true;
  }

  /** {@code value} = MatMul(x, W) or MatMul(x, W) + b for a W in {@code weights}. */
  private static boolean fedBy(OnnxGraph g, String value, Set<String> weights) {
    Optional<NodeProto> p = g.producer(value);
    if (p.isPresent() && p.get().getOpType().equals("Add")) {
      return p.get().getInputList().stream().anyMatch(in -> fedBy(g, in, weights));
    }
    return p.isPresent() && p.get().getOpType().equals("MatMul") && weights.contains(p.get().getInput(1));
  }

  private static long length(OnnxGraph g, String name) {
    return g.initializer(name).filter(t -> t.getDimsCount() == 1 && t.getDataType() == 1).map(t -> t.getDims(0))
        .orElse(-1L);
  }

  private static Optional<NodeProto> findBack(OnnxGraph g, NodeProto start, String op) {
    NodeProto n = start;
    for (int i = 0; i < 4 && n != null; i++) {
      if (n.getOpType().equals(op)) {
        return Optional.of(n);
      }
      n = g.producer(n.getInput(0)).orElse(null);
    }
    return Optional.empty();
  }
}
