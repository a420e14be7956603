package dev.pruneserve.pruning.cnn;

import dev.pruneserve.graph.FloatTensors;
import dev.pruneserve.graph.ModelBuilder;
import dev.pruneserve.graph.OnnxGraph;
import dev.pruneserve.onnx.proto.Onnx.GraphProto;
import dev.pruneserve.onnx.proto.Onnx.ModelProto;
import dev.pruneserve.onnx.proto.Onnx.NodeProto;
import dev.pruneserve.onnx.proto.Onnx.TensorProto;
import dev.pruneserve.onnx.proto.Onnx.ValueInfoProto;
import dev.pruneserve.pruning.Progress;
import dev.pruneserve.session.ModelSession;
import dev.pruneserve.session.SessionLoader;
import dev.pruneserve.tensor.Tensor;
import dev.pruneserve.train.ImageSet;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Wanda-style channel scores of a CNN from images without labels (Sun et al.'s |W|·‖X‖ taken to
 * channels, as Wanda-SP does for LLMs): for channel c of a group, the sum over every consumer
 * that reads it (a Conv's input slice, a Gemm/MatMul's rows after Flatten) of mean |W| over the
 * weights reading c, times the RMS of the consumer's input channel c over the images. Inputs'
 * mean squares come from in-graph taps (Cast to FP32 → x² → ReduceMean over batch and spatial
 * axes), so only per-channel vectors leave ONNX Runtime. A group no consumer reads with a
 * recorded slice scores by its producers' L1 magnitude. Single-threaded.
 */
public final class ActivationScores {
  /** Images per forward pass. */
  static final int BATCH = 16;

  private ActivationScores() {}

  /** One consumer slice and the value its node reads (the tapped activation), with that value's rank. */
  private record Reader(ChannelSlice slice, String value, int rank) {
    boolean flat() {
      return rank == 2;
    }
  }

  /** Scores per group (discovery order), higher = more important. */
  public static List<double[]> wanda(ModelProto model, ChannelDependencies deps, ImageSet images,
      SessionLoader loader, Path work, Progress progress) throws IOException {
    OnnxGraph g = new OnnxGraph(model);
    Map<String, TensorProto> init = new LinkedHashMap<>();
    model.getGraph().getInitializerList().forEach(t -> init.put(t.getName(), t));
    List<List<Reader>> readers = new ArrayList<>();
    Map<String, Integer> taps = new LinkedHashMap<>(); // value → its rank
    for (ChannelGroup grp : deps.groups()) {
      List<Reader> rs = new ArrayList<>();
      for (ChannelSlice s : grp.slices()) {
        reader(g, s).ifPresent(r -> {
          rs.add(r);
          taps.put(r.value(), r.rank());
        });
      }
      readers.add(rs);
    }
    Map<String, double[]> meanSquares = meanSquares(model, taps, images, loader, work.resolve("cnn-taps.onnx"),
        progress);
    List<double[]> out = new ArrayList<>();
    for (int i = 0; i < deps.groups().size(); i++) {
      ChannelGroup grp = deps.groups().get(i);
      if (readers.get(i).isEmpty()) {
        out.add(ChannelPruner.scores(grp, init, ChannelPruner.Score.L1, 0));
        continue;
      }
      double[] s = new double[grp.channels()];
      for (Reader r : readers.get(i)) {
        TensorProto w = init.get(r.slice().initializer());
        double[] abs = dev.pruneserve.graph.Slicing.power(w, r.slice().axis(), 1);
        long perIndex = 1;
        for (int d = 0; d < w.getDimsCount(); d++) {
          perIndex *= d == r.slice().axis() ? 1 : w.getDims(d);
        }
        double[] ms = meanSquares.get(r.value());
        int m = r.slice().multiplicity();
        for (int c = 0; c < s.length; c++) {
          for (int k = 0; k < m; k++) {
            int idx = (r.slice().offset() + c) * m + k;
            s[c] += abs[idx] / perIndex * Math.sqrt(ms[r.flat() ? idx : r.slice().offset() + c]);
          }
        }
      }
      out.add(s);
    }
    return out;
  }

  /**
   * The consumer reading {@code s} — a Conv (input axis 1), ConvTranspose (0), Gemm (1 with transB,
   * else 0) or MatMul (0) whose weight is the slice's initializer, directly or through Identity/Cast
   * — and the activation it reads; empty for producer slices and per-channel parameters.
   */
  private static Optional<Reader> reader(OnnxGraph g, ChannelSlice s) {
    String v = s.initializer();
    for (int hops = 0; hops < 8; hops++) {
      List<NodeProto> cs = g.consumers(v);
      if (cs.size() != 1) {
        return Optional.empty();
      }
      NodeProto n = cs.get(0);
      String op = n.getOpType();
      if (op.equals("Identity") || op.equals("Cast")) {
        v = n.getOutput(0);
        continue;
      }
      if (n.getInputCount() < 2 || !n.getInput(1).equals(v)) {
        return Optional.empty();
      }
      boolean transB = n.getAttributeList().stream().anyMatch(a -> a.getName().equals("transB") && a.getI() == 1);
      int inputAxis = switch (op) {
        case "Conv" -> 1;
        case "ConvTranspose" -> 0;
        case "Gemm" -> transB ? 1 : 0;
        case "MatMul" -> 0;
        default -> -1;
      };
      int rank = op.equals("Gemm") || op.equals("MatMul") ? 2 : g.initializer(s.initializer()).map(
          TensorProto::getDimsCount).orElse(4);
      return s.axis() == inputAxis ? Optional.of(new Reader(s, n.getInput(0), rank)) : Optional.empty();
    }
    return Optional.empty();
  }

  /** Per tapped value, the mean over images and positions of x² per channel (flat values: per column). */
  private static Map<String, double[]> meanSquares(ModelProto model, Map<String, Integer> taps, ImageSet images,
      SessionLoader loader, Path file, Progress progress) throws IOException {
    dev.pruneserve.repository.ModelFileWriter.write(withTaps(model, taps), file, false);
    String input = dev.pruneserve.train.TrainingGraph.imagesInput(model);
    Map<String, double[]> sums = new LinkedHashMap<>();
    int n = images.size();
    try (ModelSession s = loader.load("activation-taps/1", file)) {
      for (int from = 0; from < n; from += BATCH) {
        int b = Math.min(BATCH, n - from);
        int size = images.imageSize();
        float[] x = java.util.Arrays.copyOfRange(images.pixels(), from * size, (from + b) * size);
        Tensor t = Tensor.fp32(input, new long[] {b, images.channels(), images.height(), images.width()}, x);
        java.util.Set<String> outs = new java.util.LinkedHashSet<>();
        taps.keySet().forEach(v -> outs.add(tap(v)));
        Map<String, Tensor> r = s.run(Map.of(input, t), outs);
        for (String v : taps.keySet()) {
          float[] ms = r.get(tap(v)).toFloatArray();
          double[] acc = sums.computeIfAbsent(v, k -> new double[ms.length]);
          for (int c = 0; c < ms.length; c++) {
            acc[c] += (double) ms[c] * b / n; // batch means weighted by batch size
          }
        }
        progress.report("scoring", (double) (from + b) / n);
      }
    }
    return sums;
  }

  private static String tap(String value) {
    return "tap." + value + ".meansq";
  }

  /** {@code model} with outputs {@code tap.<v>.meansq} [C]: ReduceMean of Cast(v)² over all axes but 1 (flat: 0). */
  static ModelProto withTaps(ModelProto model, Map<String, Integer> taps) {
    long opset = dev.pruneserve.graph.Reductions.opset(model);
    GraphProto.Builder g = model.getGraph().toBuilder();
    for (Map.Entry<String, Integer> e : taps.entrySet()) {
      String v = e.getKey();
      int rank = e.getValue(); // [N, C, …]: every axis but 1; flattened [N, K]: axis 0
      long[] axes = rank == 2 ? new long[] {0} : java.util.stream.LongStream.range(0, rank).filter(a -> a != 1)
          .toArray();
      g.addNode(NodeProto.newBuilder().setOpType("Cast").setName(tap(v) + ".cast").addInput(v).addOutput(tap(v)
          + ".f32").addAttribute(ModelBuilder.intAttr("to", FloatTensors.FLOAT)));
      g.addNode(NodeProto.newBuilder().setOpType("Mul").setName(tap(v) + ".sq").addInput(tap(v) + ".f32")
          .addInput(tap(v) + ".f32").addOutput(tap(v) + ".x2"));
      g.addNode(dev.pruneserve.graph.Reductions.reduce("ReduceMean", tap(v) + ".x2", tap(v), axes, false, opset, g));
      g.addOutput(ValueInfoProto.newBuilder().setName(tap(v)));
    }
    return model.toBuilder().setGraph(g).build();
  }
}
