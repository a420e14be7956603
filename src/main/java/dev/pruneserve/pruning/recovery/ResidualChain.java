package dev.pruneserve.pruning.recovery;

import dev.pruneserve.graph.OnnxGraph;
import dev.pruneserve.onnx.proto.Onnx.NodeProto;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Where a transformer projection's output joins the residual stream: from the MatMul's output,
 * through Adds of stored biases (a model's own, FLAP's), to the first Add whose other operand is
 * computed — the residual. A sequential reconstruction targets that Add's dense output minus the
 * pruned model's residual operand, so each block also corrects the error the blocks before it
 * left in the stream ({@link SequentialReconstruction}). Stateless.
 *
 * @param sum the residual Add's output
 * @param residual its other operand (the stream before the block)
 * @param biases the stored biases added on the way, in order
 */
record ResidualChain(String sum, String residual, List<String> biases) {
  static Optional<ResidualChain> of(OnnxGraph g, String matmulOutput) {
    String v = matmulOutput;
    List<String> biases = new ArrayList<>();
    for (int hops = 0; hops < 4; hops++) {
      List<NodeProto> next = g.consumers(v);
      if (next.size() != 1 || !next.get(0).getOpType().equals("Add") || next.get(0).getInputCount() != 2) {
        return Optional.empty();
      }
      NodeProto add = next.get(0);
      String other = add.getInput(0).equals(v) ? add.getInput(1) : add.getInput(0);
      if (g.initializer(other).isPresent() || g.constant(other).isPresent()) {
        biases.add(other);
        v = add.getOutput(0);
        continue;
      }
      return Optional.of(new ResidualChain(add.getOutput(0), other, biases));
    }
    return Optional.empty();
  }
}
