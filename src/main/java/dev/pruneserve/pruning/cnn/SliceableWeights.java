package dev.pruneserve.pruning.cnn;

import dev.pruneserve.graph.FloatTensors;
import dev.pruneserve.graph.OnnxGraph;
import dev.pruneserve.onnx.proto.Onnx.TensorProto;
import java.util.HashSet;
import java.util.Optional;
import java.util.Set;

/**
 * The initializers {@link ChannelDiscovery} may slice or read: weights read by exactly one node,
 * reached directly or through Identity/Cast (FP16 storage cast to FP32). Names read by a subgraph,
 * graph inputs and outputs are never sliced (another reader keeps the old shape). Immutable.
 */
final class SliceableWeights {
  private final OnnxGraph g;
  private final Set<String> readElsewhere = new HashSet<>();

  SliceableWeights(OnnxGraph g) {
    this.g = g;
    var graph = g.model().getGraph();
    readElsewhere.addAll(Subgraphs.captured(graph).keySet());
    graph.getInputList().forEach(v -> readElsewhere.add(v.getName()));
    graph.getOutputList().forEach(v -> readElsewhere.add(v.getName()));
  }

  /**
   * An FP32/FP16/BF16 initializer of this rank read by exactly one node and nothing else (safe to
   * slice), directly or through a chain of Identity/Cast nodes that nothing else reads (the slice
   * is taken on the initializer; the chain follows its shape).
   */
  Optional<TensorProto> sliceable(String name, int rank) {
    String v = name;
    while (g.consumers(v).size() == 1 && !readElsewhere.contains(v) && g.producer(v).filter(p -> p.getOpType()
        .equals("Identity") || p.getOpType().equals("Cast")).isPresent()) {
      v = g.producer(v).get().getInput(0);
    }
    String source = v;
    return g.initializer(source).filter(t -> FloatTensors.isFloat(t.getDataType()) && t.getDimsCount() == rank
        && g.consumers(source).size() == 1 && !readElsewhere.contains(source));
  }

  /** A sliceable Conv weight of a 1-, 2- or 3-D convolution ([O, I/g, k…]: rank 3 to 5). */
  Optional<TensorProto> convWeight(String name) {
    for (int rank = 3; rank <= 5; rank++) {
      Optional<TensorProto> w = sliceable(name, rank);
      if (w.isPresent()) {
        return w;
      }
    }
    return Optional.empty();
  }

  /** The initializer behind {@code name}, directly or through Identity/Cast nodes (read, not sliced). */
  Optional<TensorProto> constant(String name) {
    String v = name;
    while (g.initializer(v).isEmpty() && g.producer(v).filter(p -> p.getOpType().equals("Identity") || p
        .getOpType().equals("Cast")).isPresent()) {
      v = g.producer(v).get().getInput(0);
    }
    return g.initializer(v);
  }
}
