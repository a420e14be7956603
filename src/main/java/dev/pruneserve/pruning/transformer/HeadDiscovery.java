package dev.pruneserve.pruning.transformer;

import dev.pruneserve.graph.OnnxGraph;
import dev.pruneserve.onnx.proto.Onnx.NodeProto;
import java.util.ArrayList;
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
 * Casts between the Softmax and the PV MatMul (transformers' eager attention upcasts to float32 and
 * back) are looked through. A block that does not match exactly is not prunable; {@link #scan}
 * says which Softmax and why, so callers can refuse instead of pruning less than asked.
 */
public final class HeadDiscovery {

  private HeadDiscovery() {}

  /** The matched attention blocks, and for every Softmax that did not match: its node and why. */
  public record Scan(List<HeadGroup> blocks, List<String> unmatched) {
    public Scan {
      blocks = List.copyOf(blocks);
      unmatched = List.copyOf(unmatched);
    }
  }

  public static List<HeadGroup> attentionBlocks(OnnxGraph g) {
    return scan(g).blocks();
  }

  public static Scan scan(OnnxGraph g) {
    List<HeadGroup> out = new ArrayList<>();
    List<String> unmatched = new ArrayList<>();
    for (NodeProto softmax : g.nodes()) {
      if (softmax.getOpType().equals("Softmax")) {
        List<String> why = new ArrayList<>();
        Optional<HeadGroup> m = match(g, softmax, out.size(), why);
        if (m.isPresent()) {
          out.add(m.get());
        } else if (attentionLike(g, softmax)) { // not e.g. a classifier's output Softmax
          unmatched.add("Softmax node '" + softmax.getName() + "': " + (why.isEmpty() ? "not an attention block"
              : why.get(0)));
        }
      }
    }
    return new Scan(out, unmatched);
  }

  /** A Softmax over MatMul(activation, activation) scores (q·kᵀ), within 4 nodes before it. */
  private static boolean attentionLike(OnnxGraph g, NodeProto softmax) {
    return g.producer(softmax.getInput(0)).flatMap(n -> findBack(g, n, "MatMul"))
        .filter(mm -> mm.getInputList().stream().noneMatch(in -> g.initializer(in).isPresent())).isPresent();
  }

  /** The node reading {@code value} through a chain of single-consumer Casts, if it is an {@code op}. */
  private static Optional<NodeProto> throughCasts(OnnxGraph g, String value, String op) {
    String v = value;
    for (int i = 0; i < 4; i++) {
      Optional<NodeProto> cast = g.soleConsumer(v, "Cast");
      if (cast.isEmpty()) {
        break;
      }
      v = cast.get().getOutput(0);
    }
    String in = v;
    return g.soleConsumer(v, op).filter(n -> n.getInput(0).equals(in));
  }

  private static Optional<HeadGroup> match(OnnxGraph g, NodeProto softmax, int index, List<String> why) {
    Optional<NodeProto> pv = throughCasts(g, softmax.getOutput(0), "MatMul");
    if (pv.isEmpty()) {
      why.add("its output (through Casts) is not read by exactly one MatMul as the attention weights; read by "
          + g.consumers(softmax.getOutput(0)).stream().map(NodeProto::getOpType).toList());
      return Optional.empty();
    }
    Optional<NodeProto> tr = g.soleConsumer(pv.get().getOutput(0), "Transpose");
    Optional<NodeProto> merge = tr.flatMap(t -> g.soleConsumer(t.getOutput(0), "Reshape"));
    Optional<NodeProto> oProj = merge.flatMap(m -> g.soleConsumer(m.getOutput(0), "MatMul"));
    Optional<NodeProto> qk = g.producer(softmax.getInput(0)).flatMap(n -> findBack(g, n, "MatMul"));
    if (qk.isEmpty()) {
      why.add("no QK MatMul within 4 nodes before it");
      return Optional.empty();
    }
    if (oProj.isEmpty()) {
      why.add("the attention output (MatMul '" + pv.get().getName() + "') does not reach an output projection"
          + " through Transpose -> Reshape -> MatMul");
      return Optional.empty();
    }
    Optional<HeadSplits.Split> v = HeadSplits.trace(g, pv.get().getInput(1), why);
    Optional<HeadSplits.Split> q = HeadSplits.trace(g, qk.get().getInput(0), why);
    Optional<HeadSplits.Split> k = HeadSplits.trace(g, qk.get().getInput(1), why);
    if (v.isEmpty() || q.isEmpty() || k.isEmpty()) {
      String which = v.isEmpty() ? "v" : q.isEmpty() ? "q" : "k";
      why.add(0, "the " + which + " projection was not found (expected Transpose(Reshape(MatMul(x, W) [+ b],"
          + " [.., .., heads, head_dim])) behind RoPE and the KV cache)" + (why.isEmpty() ? "" : ": " + why.get(0)));
      return Optional.empty();
    }
    why.clear(); // q, k and v were all traced: what the traces tried on the way is not the reason
    int heads = q.get().heads();
    int kvHeads = k.get().heads();
    int hd = q.get().headDim();
    if (v.get().heads() != kvHeads || k.get().headDim() != hd || v.get().headDim() != hd || heads % kvHeads != 0) {
      why.add("q, k and v heads do not line up (q " + heads + " heads of " + hd + ", k " + kvHeads + " of "
          + k.get().headDim() + ", v " + v.get().heads() + " of " + v.get().headDim() + ")");
      return Optional.empty();
    }
    if (kvHeads != heads && (k.get().repeatNodes().isEmpty() || v.get().repeatNodes().isEmpty())) {
      why.add("grouped-query attention (" + heads + " query heads over " + kvHeads + " K/V heads) without a repeat_kv"
          + " (Unsqueeze -> Expand -> Reshape) between the cache and the attention MatMuls");
      return Optional.empty();
    }
    for (HeadSplits.Split sp : kvHeads != heads ? List.of(k.get(), v.get()) : List.<HeadSplits.Split>of()) {
      if (sp.repeatFactor() * kvHeads != heads || sp.repeatedHeads() != heads) {
        why.add("repeat_kv repeats " + kvHeads + " K/V heads " + sp.repeatFactor() + " times into "
            + sp.repeatedHeads() + " heads, but the block has " + heads + " query heads");
        return Optional.empty();
      }
    }
    String wo = oProj.get().getInput(1);
    Optional<ShapeSlot.Vector> merged = ShapeSlot.resolve(g, merge.get().getInput(1));
    if (GatedMlpDiscovery.rows(g, wo) != heads * hd || merged.isEmpty() || merged.get().values().length != 3
        || merged.get().values()[2] != (long) heads * hd) {
      why.add("the head merge Reshape '" + merge.get().getName() + "' or the output projection '" + wo
          + "' is not [.., .., " + heads * hd + "] with a constant last dim");
      return Optional.empty();
    }
    Set<String> projections = Set.of(q.get().weight(), k.get().weight(), v.get().weight());
    Set<ShapeSlot> split = new LinkedHashSet<>();
    for (HeadSplits.Split sp : List.of(q.get(), k.get(), v.get())) {
      if (sp.shape() != null) {
        split.add(sp.shape());
      }
    }
    for (ShapeSlot s : split) {
      if (!onlyReshapes(g, s.tensor(), r -> fedBy(g, r.getInput(0), projections))) {
        why.add("the head-split shape constant '" + s.tensor() + "' is shared beyond this block");
        return Optional.empty(); // rewriting it would break the others
      }
    }
    Set<String> repeatNodes = new HashSet<>(k.get().repeatNodes());
    repeatNodes.addAll(v.get().repeatNodes());
    List<ShapeSlot> queryShapes = new ArrayList<>();
    List<ShapeSlot> kvShapes = new ArrayList<>();
    if (q.get().shape() != null) {
      queryShapes.add(q.get().shape());
    }
    for (HeadSplits.Split sp : List.of(k.get(), v.get())) {
      if (sp.shape() != null && !kvShapes.contains(sp.shape())) {
        kvShapes.add(sp.shape());
      }
      for (ShapeSlot s : sp.repeatQuery()) {
        if (!queryShapes.contains(s)) {
          queryShapes.add(s);
        }
      }
      for (ShapeSlot s : sp.repeatKv()) {
        if (!kvShapes.contains(s)) {
          kvShapes.add(s);
        }
      }
    }
    for (ShapeSlot s : queryShapes.size() + kvShapes.size() > 0 ? concat(queryShapes, kvShapes)
        : List.<ShapeSlot>of()) {
      if (!split.contains(s) && !onlyReadBy(g, s.tensor(), repeatNodes)) {
        why.add("the repeat_kv shape constant '" + s.tensor() + "' is shared beyond this block");
        return Optional.empty();
      }
    }
    if (!onlyReshapes(g, merged.get().slots()[2].tensor(),
        r -> g.consumers(r.getOutput(0)).stream().anyMatch(c -> c.getInputCount() > 1 && c.getInput(1).equals(wo)))) {
      why.add("the merge shape constant '" + merged.get().slots()[2].tensor() + "' is shared beyond this block");
      return Optional.empty();
    }
    List<String> cache = new ArrayList<>();
    for (HeadSplits.Split sp : List.of(k.get(), v.get())) {
      cache.addAll(sp.cache());
    }
    List<String> qBias = q.get().bias() == null ? List.of() : List.of(q.get().bias());
    List<String> kvBias = new ArrayList<>();
    for (HeadSplits.Split sp : List.of(k.get(), v.get())) {
      if (sp.bias() != null) {
        kvBias.add(sp.bias());
      }
    }
    return Optional.of(new HeadGroup(index, q.get().weight(), k.get().weight(), v.get().weight(), wo, qBias, kvBias,
        queryShapes, kvShapes, merged.get().slots()[2], List.copyOf(cache), heads, kvHeads, hd));
  }

  private static List<ShapeSlot> concat(List<ShapeSlot> a, List<ShapeSlot> b) {
    List<ShapeSlot> out = new ArrayList<>(a);
    out.addAll(b);
    return out;
  }

  /** Whether every node reading the constant {@code tensor} (directly or through a shape Concat) is in {@code nodes}. */
  private static boolean onlyReadBy(OnnxGraph g, String tensor, Set<String> nodes) {
    for (NodeProto c : g.consumers(tensor)) {
      List<NodeProto> readers = c.getOpType().equals("Concat") ? g.consumers(c.getOutput(0)) : List.of(c);
      for (NodeProto r : readers) {
        if (!nodes.contains(r.getOutput(0))) {
          return false;
        }
      }
    }
    return true;
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
