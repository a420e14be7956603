package dev.pruneserve.pruning.zo;

import dev.pruneserve.graph.OnnxGraph;
import dev.pruneserve.onnx.proto.Onnx.TensorProto;
import dev.pruneserve.pruning.transformer.DecoderStructure;
import dev.pruneserve.pruning.transformer.HeadGroup;
import dev.pruneserve.pruning.transformer.MlpGroup;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/**
 * One scored weight of a decoder layer, a MatMul weight [in, out] (row-major, element k = j·out +
 * r for input channel j, output channel r), with the value that feeds it (its X) and how its
 * elements map to prunable groups: q/k/v columns and o rows by head, gate/up columns and down rows
 * by MLP channel (algorithms.md §1.2).
 *
 * @param id stable tensor number (layer·7 + role), the key of its perturbation stream
 * @param width channels per group: a unit's q/o width or its k/v width ({@link HeadGroup}) for head
 *     roles, 1 for MLP roles
 */
public record ScoredTensor(String name, Role role, int layer, int id, int in, int out, String input, int width) {
  /** Roles in a LLaMA-style layer; {@link #byRow} tells whether groups index rows (inputs) or columns. */
  public enum Role {
    Q(true, false), K(true, false), V(true, false), O(true, true), GATE(false, false), UP(false, false),
    DOWN(false, true);

    public final boolean head;
    public final boolean byRow;

    Role(boolean head, boolean byRow) {
      this.head = head;
      this.byRow = byRow;
    }
  }

  /** The group of element (j, r): a unit (head or KV group) index for head roles, else a channel index. */
  public int group(int j, int r) {
    return (role.byRow ? j : r) / width;
  }

  /** Every scored weight of every decoder layer, in layer order then role order. */
  public static List<ScoredTensor> of(OnnxGraph g, List<HeadGroup> blocks, List<MlpGroup> mlps) {
    List<ScoredTensor> out = new ArrayList<>();
    for (int l = 0; l < blocks.size(); l++) {
      HeadGroup b = blocks.get(l);
      MlpGroup m = mlps.get(l);
      String[] names = {b.qWeight(), b.kWeight(), b.vWeight(), b.oWeight(), m.gateWeight(), m.upWeight(),
          m.downWeight()};
      for (Role role : Role.values()) {
        String n = names[role.ordinal()];
        TensorProto t = g.initializer(n).orElseThrow(() -> new IllegalArgumentException("no initializer " + n));
        if (t.getDimsCount() != 2 || t.getDataType() != 1 || !t.hasRawData()) {
          throw new IllegalArgumentException("weight " + n + " is not a 2-D FP32 initializer with raw data");
        }
        out.add(new ScoredTensor(n, role, l, l * 7 + role.ordinal(), (int) t.getDims(0), (int) t.getDims(1),
            DecoderStructure.inputOf(g, n), !role.head ? 1 : role == Role.K || role == Role.V ? b.headDim()
                : b.unitWidth()));
      }
    }
    return out;
  }

  /** A copy of the weight's values. */
  public float[] values(OnnxGraph g) {
    float[] v = new float[Math.multiplyExact(in, out)];
    g.initializer(name).orElseThrow().getRawData().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN)
        .asFloatBuffer().get(v);
    return v;
  }
}
