package dev.pruneserve.pruning.cnn;

import dev.pruneserve.graph.OnnxGraph;
import dev.pruneserve.onnx.proto.Onnx.AttributeProto;
import dev.pruneserve.onnx.proto.Onnx.ModelProto;
import dev.pruneserve.onnx.proto.Onnx.NodeProto;
import dev.pruneserve.onnx.proto.Onnx.TensorProto;
import dev.pruneserve.onnx.proto.Onnx.ValueInfoProto;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Finds the channel groups of an NCHW CNN by graph pattern, never by tensor names: one forward pass
 * over the (topologically sorted) nodes gives each channel-carrying value a {@link Layout} and joins
 * channel sets where ops couple them.
 *
 * <ul>
 *   <li>Conv (group 1; 1-, 2- or 3-D): new set for its output channels (weight dim 0, bias); reads its input's
 *       channels through weight dim 1. Depthwise Conv (group = C = O, weight [C, 1, kh, kw]):
 *       output channels are the input's (weight dim 0, bias).
 *   <li>BatchNormalization, Add/Sub/Mul/Div with an initializer broadcast per channel
 *       ([1, C, 1, 1], [C, 1, 1]) or not over channels (scalars): per-channel slices, same layout.
 *   <li>Elementwise activations, pooling, Identity, Dropout: same layout. Add/Sub/Mul/Div of two
 *       channel values (residual Add, x·Sigmoid(x), the SE Mul): joins the sets channel by channel.
 *   <li>Concat on axis 1: segments at offsets. Flatten(axis 1) or Reshape to [0, -1], then Gemm
 *       (transA 0) or MatMul with a 2-D initializer: rows (or transB columns) with multiplicity
 *       K / C (= H·W, 1 after global pooling). Their outputs are never pruned.
 * </ul>
 *
 * ConvTranspose (group 1) creates a set over weight dim 1; Resize by constant scales that keep
 * channels and binary Max/Min/Pow/PRelu with constants follow like the arithmetic ops. Channels-last
 * stretches (tf2onnx): a Transpose moves the channel axis, elementwise ops, constants broadcast on
 * it and Concat along it follow it there, reductions and Squeeze over spatial axes keep it (to
 * [N, C], read by a Gemm/MatMul: {@link ChannelAxes}); Conv, BatchNormalization, pooling and Flatten
 * need it at 1. What may be sliced: {@link SliceableWeights}. Anything else that reads a channel
 * value, a graph input or a graph output blocks the sets involved ({@link NotPrunable}); such ops'
 * outputs are untracked, which is always safe.
 */
public final class ChannelDiscovery {
  private static final Set<String> PASS_THROUGH = Set.of("Relu", "LeakyRelu", "Clip", "Sigmoid", "HardSigmoid",
      "HardSwish", "Tanh", "Elu", "Selu", "Softplus", "Identity", "Dropout", "Abs", "Neg", "Sqrt", "Reciprocal",
      "Exp", "Log", "Erf", "Floor", "Ceil", "Round", "Sign", "Softsign", "Mish", "Gelu", "Celu", "ThresholdedRelu",
      "Shrink", "Cast");
  private static final Set<String> POOLS = Set.of("MaxPool", "AveragePool", "GlobalAveragePool", "GlobalMaxPool");
  /** Binary elementwise ops: two channel values are joined, a constant operand is sliced per channel or broadcast. */
  private static final Set<String> ARITHMETIC = Set.of("Add", "Sub", "Mul", "Div", "Max", "Min", "Pow", "PRelu");
  /** Reductions: per channel as long as the channel axis is not reduced. */
  private static final Set<String> REDUCTIONS = Set.of("ReduceMean", "ReduceMax", "ReduceMin", "ReduceSum",
      "ReduceL1", "ReduceL2", "ReduceSumSquare", "ReduceLogSumExp", "ReduceProd");

  private final OnnxGraph g;
  private final ChannelSets sets = new ChannelSets();
  private final Map<String, Layout> layouts = new HashMap<>();

  private final SliceableWeights weights;

  private ChannelDiscovery(ModelProto model) {
    this.g = new OnnxGraph(model);
    this.weights = new SliceableWeights(g);
  }

  public static ChannelDependencies discover(ModelProto model) {
    ChannelDiscovery d = new ChannelDiscovery(model);
    for (ValueInfoProto in : model.getGraph().getInputList()) {
      d.graphInput(in);
    }
    d.g.nodes().forEach(d::visit);
    Subgraphs.captured(model.getGraph()).forEach((value, holder) -> d.block(d.layouts.get(value), holder.getOpType(),
        holder.getName(), "captured by a subgraph"));
    for (ValueInfoProto out : model.getGraph().getOutputList()) {
      d.block(d.layouts.get(out.getName()), "(output)", out.getName(), "graph output channels are fixed");
    }
    return d.sets.result();
  }

  /** A rank-4 input with a fixed channel count gets a (blocked) set so what reads it is recorded. */
  private void graphInput(ValueInfoProto in) {
    var shape = in.getType().getTensorType().getShape();
    if (g.initializer(in.getName()).isPresent() || shape.getDimCount() != 4 || !shape.getDim(1).hasDimValue()) {
      return;
    }
    int c = (int) shape.getDim(1).getDimValue();
    int set = sets.create(c, in.getName());
    sets.block(set, "(input)", in.getName(), "network input channels are fixed");
    layouts.put(in.getName(), Layout.of(set, c, 4));
  }

  private void visit(NodeProto n) {
    String op = n.getDomain().isEmpty() || n.getDomain().equals("ai.onnx") ? n.getOpType()
        : n.getDomain() + ":" + n.getOpType();
    if (op.equals("Conv")) {
      conv(n);
    } else if (op.equals("ConvTranspose")) {
      convTranspose(n);
    } else if (op.equals("Resize") || op.equals("Upsample")) {
      resize(n);
    } else if (op.equals("BatchNormalization")) {
      batchNorm(n);
    } else if (PASS_THROUGH.contains(op) || POOLS.contains(op)) {
      passThrough(n);
    } else if (ARITHMETIC.contains(op)) {
      arithmetic(n);
    } else if (op.equals("Concat")) {
      concat(n);
    } else if (op.equals("Transpose")) {
      transpose(n);
    } else if (REDUCTIONS.contains(op) || op.equals("Squeeze")) {
      reduce(n);
    } else if (op.equals("Flatten")) {
      flatten(n, attr(n, "axis", 1) == 1);
    } else if (op.equals("Reshape")) {
      flatten(n, g.initializer(n.getInput(1)).map(ChannelAxes::int64s)
          .filter(s -> s.length == 2 && s[0] == 0 && s[1] == -1).isPresent() && attr(n, "allowzero", 0) == 0);
    } else if (op.equals("Gemm") || op.equals("MatMul")) {
      linear(n);
    } else {
      unknown(n, "op " + op + " is not understood");
    }
  }

  private void conv(NodeProto n) {
    Layout x = layouts.get(n.getInput(0));
    Optional<TensorProto> w = weights.convWeight(n.getInput(1));
    Optional<String> bias = n.getInputCount() > 2 && !n.getInput(2).isEmpty()
        ? weights.sliceable(n.getInput(2), 1).map(TensorProto::getName) : Optional.of("");
    if (x != null && !x.channelFirst()) {
      unknown(n, channelsLast(x));
      return;
    }
    if (w.isEmpty() || bias.isEmpty()) {
      unknown(n, "weight or bias is not an unshared FP32 initializer");
      return;
    }
    int out = (int) w.get().getDims(0);
    int perGroup = (int) w.get().getDims(1);
    long group = attr(n, "group", 1);
    if (group == 1) {
      if (x != null && x.channels() != perGroup) {
        unknown(n, "input has " + x.channels() + " channels, weight reads " + perGroup);
        return;
      }
      addSlices(x, w.get().getName(), 1, 1);
      int set = sets.create(out, n.getName());
      Layout y = Layout.of(set, out, w.get().getDimsCount());
      addSlices(y, w.get().getName(), 0, 1);
      addSlices(y, bias.get(), 0, 1);
      layouts.put(n.getOutput(0), y);
    } else if (x != null && perGroup == 1 && group == out && out == x.channels()) {
      addSlices(x, w.get().getName(), 0, 1); // depthwise: channel c in = channel c out
      addSlices(x, bias.get(), 0, 1);
      layouts.put(n.getOutput(0), x);
    } else {
      unknown(n, "grouped Conv (group " + group + ") other than depthwise is not supported");
    }
  }

  /** ConvTranspose (group 1): weight [C_in, C_out, kh, kw]; new set over dim 1, reads its input through dim 0. */
  private void convTranspose(NodeProto n) {
    Layout x = layouts.get(n.getInput(0));
    Optional<TensorProto> w = weights.convWeight(n.getInput(1));
    Optional<String> bias = n.getInputCount() > 2 && !n.getInput(2).isEmpty()
        ? weights.sliceable(n.getInput(2), 1).map(TensorProto::getName) : Optional.of("");
    if (x != null && !x.channelFirst()) {
      unknown(n, channelsLast(x));
      return;
    }
    if (w.isEmpty() || bias.isEmpty() || attr(n, "group", 1) != 1
        || (x != null && x.channels() != w.get().getDims(0))) {
      unknown(n, "weight or bias is not an unshared float initializer, or a grouped ConvTranspose");
      return;
    }
    addSlices(x, w.get().getName(), 0, 1);
    int out = (int) w.get().getDims(1);
    Layout y = Layout.of(sets.create(out, n.getName()), out, w.get().getDimsCount());
    addSlices(y, w.get().getName(), 1, 1);
    addSlices(y, bias.get(), 0, 1);
    layouts.put(n.getOutput(0), y);
  }

  /** Resize/Upsample by constant scales that keep batch and channels (scale 1 on axis 0 and the channel axis), no sizes. */
  private void resize(NodeProto n) {
    Layout x = layouts.get(n.getInput(0));
    if (x == null) {
      return;
    }
    String scalesName = n.getOpType().equals("Upsample") ? n.getInput(1) : n.getInputCount() > 2 ? n.getInput(2) : "";
    boolean sizes = n.getInputCount() > 3 && !n.getInput(3).isEmpty();
    Optional<float[]> scales = weights.constant(scalesName).filter(t -> dev.pruneserve.graph.FloatTensors.isFloat(t
        .getDataType()) && t.getDimsCount() == 1 && t.getDims(0) == x.rank()).map(t -> {
          var f = dev.pruneserve.graph.FloatTensors.values(t);
          return new float[] {f.get(0), f.get(x.axis())};
        });
    if (x.flat() || sizes || scales.isEmpty() || scales.get()[0] != 1f || scales.get()[1] != 1f
        || n.getInputList().stream().skip(1).anyMatch(layouts::containsKey)) {
      unknown(n, "only Resize by constant scales that keep batch and channels is followed (sizes name the channel"
          + " count)");
      return;
    }
    layouts.put(n.getOutput(0), x);
  }

  private void batchNorm(NodeProto n) {
    Layout x = layouts.get(n.getInput(0));
    if (x == null) {
      return;
    }
    List<String> params = new ArrayList<>();
    for (int i = 1; i < 5; i++) {
      Optional<TensorProto> p = weights.sliceable(n.getInput(i), 1).filter(t -> t.getDims(0) == x.channels());
      if (p.isEmpty()) {
        unknown(n, "parameter " + n.getInput(i) + " is not an unshared per-channel FP32 initializer");
        return;
      }
      params.add(p.get().getName());
    }
    if (!x.channelFirst() || extraOutputsUsed(n)) {
      unknown(n, x.channelFirst() ? "training-mode BatchNormalization" : channelsLast(x));
      return;
    }
    params.forEach(p -> addSlices(x, p, 0, 1));
    layouts.put(n.getOutput(0), x);
  }

  /** Elementwise activations and pooling: output channel c is a function of input channel c only. */
  private void passThrough(NodeProto n) {
    Layout x = layouts.get(n.getInput(0));
    if (x == null) {
      return;
    }
    boolean tracksOperands = n.getInputList().stream().skip(1).anyMatch(layouts::containsKey);
    if (tracksOperands || extraOutputsUsed(n)) {
      unknown(n, "tracked operands or extra outputs");
      return;
    }
    if (POOLS.contains(n.getOpType()) && !x.channelFirst()) {
      unknown(n, x.flat() ? "pooling of a flattened value" : channelsLast(x));
      return;
    }
    layouts.put(n.getOutput(0), x);
  }

  private void arithmetic(NodeProto n) {
    if (n.getInputCount() != 2) {
      unknown(n, n.getOpType() + " of " + n.getInputCount() + " operands");
      return;
    }
    Layout a = layouts.get(n.getInput(0));
    Layout b = layouts.get(n.getInput(1));
    if (a != null && b != null) {
      if (!a.alignsWith(b)) {
        unknown(n, "operands' channel layouts differ");
        return;
      }
      for (int i = 0; i < a.segments().size(); i++) {
        sets.union(a.segments().get(i).set(), b.segments().get(i).set());
      }
      layouts.put(n.getOutput(0), a);
      return;
    }
    Layout x = a != null ? a : b;
    if (x == null) {
      return;
    }
    Optional<TensorProto> c = weights.constant(n.getInput(a != null ? 1 : 0));
    if (c.isEmpty()) {
      unknown(n, "operand " + n.getInput(a != null ? 1 : 0) + " is neither tracked nor an initializer");
      return;
    }
    int rank = c.get().getDimsCount();
    long numel = c.get().getDimsList().stream().reduce(1L, (p, q) -> p * q);
    int at = rank - (x.rank() - x.axis()); // the constant's dim under the channel axis (numpy broadcasting)
    long perChannel = at >= 0 ? c.get().getDims(at) : 1;
    if (numel == 1 || (!x.flat() && rank <= x.rank() && perChannel == 1 && x.channels() != 1)) {
      layouts.put(n.getOutput(0), x); // broadcast over channels
    } else if (!x.flat() && rank <= x.rank() && perChannel == x.channels() && weights.sliceable(c.get().getName(), rank)
        .isPresent()) {
      addSlices(x, c.get().getName(), at, 1);
      layouts.put(n.getOutput(0), x);
    } else {
      unknown(n, "initializer " + c.get().getName() + " does not broadcast per channel");
    }
  }

  private void concat(NodeProto n) {
    List<Layout> parts = new ArrayList<>();
    n.getInputList().forEach(i -> parts.add(layouts.get(i)));
    if (parts.contains(null) || parts.stream().anyMatch(Layout::flat)) {
      unknown(n, "Concat of a tracked map with an untracked or flattened value");
      return;
    }
    Layout first = parts.get(0);
    long axis = attr(n, "axis", 0);
    axis = axis < 0 ? axis + first.rank() : axis;
    if (parts.stream().anyMatch(p -> p.rank() != first.rank() || p.axis() != first.axis()) || axis != first.axis()) {
      unknown(n, "Concat on axis " + attr(n, "axis", 0) + " of values whose channel axis is " + first.axis()
          + " (only a Concat along the channel axis is followed)");
      return;
    }
    layouts.put(n.getOutput(0), Layout.concat(parts));
  }

  /** Flatten(axis 1) / Reshape [0, -1] of an NCHW value ({@code ok}); anything else is unknown. */
  private void flatten(NodeProto n, boolean ok) {
    Layout x = layouts.get(n.getInput(0));
    if (x == null) {
      return;
    }
    if (!x.flat() && !x.channelFirst()) {
      unknown(n, channelsLast(x) + "; flattening it interleaves the channels");
      return;
    }
    if (!ok || x.flat()) {
      unknown(n, "only Flatten(axis=1) or Reshape to [0, -1] of an NCHW value is followed");
      return;
    }
    layouts.put(n.getOutput(0), x.flattened());
  }

  /** Gemm / MatMul of a flattened value with a 2-D weight [K, M] (or [M, K] with transB). */
  private void linear(NodeProto n) {
    Layout x = layouts.get(n.getInput(0));
    if (x == null && layouts.get(n.getInput(1)) == null) {
      return;
    }
    boolean transB = n.getOpType().equals("Gemm") && attr(n, "transB", 0) == 1;
    Optional<TensorProto> w = weights.sliceable(n.getInput(1), 2);
    int axis = transB ? 1 : 0;
    if (x == null || !x.flat() || attr(n, "transA", 0) != 0
        || (n.getInputCount() > 2 && layouts.containsKey(n.getInput(2))) || w.isEmpty()
        || w.get().getDims(axis) % x.channels() != 0) {
      unknown(n, n.getOpType() + " other than of a flattened map with a 2-D weight of C·k rows");
      return;
    }
    addSlices(x, w.get().getName(), axis, (int) (w.get().getDims(axis) / x.channels()));
  }

  /** Transpose: the channels move to where the permutation puts their axis (NCHW ↔ NHWC). */
  private void transpose(NodeProto n) {
    Layout x = layouts.get(n.getInput(0));
    if (x != null) {
      ChannelAxes.transposed(x, n).ifPresentOrElse(y -> layouts.put(n.getOutput(0), y), () -> unknown(n,
          "only a Transpose that keeps the batch axis first of a tracked map is followed"));
    }
  }

  /** Reductions and Squeeze over spatial axes keep the channels ({@link ChannelAxes#reduced}). */
  private void reduce(NodeProto n) {
    Layout x = layouts.get(n.getInput(0));
    if (x != null) {
      ChannelAxes.reduced(x, n, g).ifPresentOrElse(y -> layouts.put(n.getOutput(0), y), () -> unknown(n,
          "only a reduction or Squeeze over constant spatial axes (neither batch nor channels) of a tracked map is"
              + " followed"));
    }
  }

  private static String channelsLast(Layout x) {
    return x.flat() ? "reads a flattened value" : "reads a value whose channel axis is " + x.axis() + " of " + x.rank()
        + " (channels-last), not 1";
  }

  private void unknown(NodeProto n, String reason) {
    for (String in : n.getInputList()) {
      block(layouts.get(in), n.getOpType(), n.getName(), reason);
    }
  }

  private void block(Layout x, String opType, String name, String reason) {
    if (x != null) {
      x.segments().forEach(s -> sets.block(s.set(), opType, name, reason));
    }
  }

  /** One slice per segment of {@code x} (a no-op for an absent layout or initializer). */
  private void addSlices(Layout x, String initializer, int axis, int multiplicity) {
    if (x == null || initializer.isEmpty()) {
      return;
    }
    int offset = 0;
    for (Layout.Segment s : x.segments()) {
      sets.addSlice(s.set(), new ChannelSlice(initializer, axis, offset, multiplicity));
      offset += s.channels();
    }
  }

  private boolean extraOutputsUsed(NodeProto n) {
    return n.getOutputList().stream().skip(1).anyMatch(o -> !o.isEmpty() && !g.consumers(o).isEmpty()
        || g.model().getGraph().getOutputList().stream().anyMatch(v -> v.getName().equals(o)));
  }

  private static long attr(NodeProto n, String name, long dflt) {
    return n.getAttributeList().stream()
        .filter(a -> a.getName().equals(name) && a.getType() == AttributeProto.AttributeType.INT)
        .mapToLong(AttributeProto::getI).findFirst().orElse(dflt);
  }

}
