package dev.pruneserve.pruning.transformer;

import java.util.List;

/**
 * The heads of one attention block, pruned in units. A unit is one K/V head with the query heads
 * that read it ({@link #groupSize} of them; 1 without grouped-query attention, where a unit is a
 * head). Query heads are grouped the way transformers' {@code repeat_kv} orders them: query head
 * {@code h} reads K/V head {@code h / groupSize}, so unit {@code u} is the contiguous columns
 * [u·w, (u+1)·w) of the q projection [D, H·hd] and the same rows of the output projection
 * [H·hd, D], w = {@link #unitWidth}, and columns [u·hd, (u+1)·hd) of the k/v projections
 * [D, KV·hd]. Removing a unit also rewrites the head counts in the shape constants and the
 * declared head dimension of KV-cache inputs and outputs.
 *
 * @param qBiases 1-D [H·hd] bias initializers of the q projection (empty if none)
 * @param kvBiases 1-D [KV·hd] bias initializers of the k/v projections (empty if none)
 * @param queryShapes shape elements holding the query head count H (q head split, the Reshape
 *     after repeat_kv); set to kept units × groupSize
 * @param kvShapes shape elements holding the K/V head count (k/v head split, a repeat_kv Expand
 *     that names it); set to kept units. Without GQA a q/k/v split shape shared by all three
 *     appears in both lists (same value)
 * @param mergeShape the H·hd element of the merge Reshape target
 * @param cacheValues graph inputs/outputs of shape [batch, KV, len, hd] tied to this block
 */
public record HeadGroup(int index, String qWeight, String kWeight, String vWeight, String oWeight,
    List<String> qBiases, List<String> kvBiases, List<ShapeSlot> queryShapes, List<ShapeSlot> kvShapes,
    ShapeSlot mergeShape, List<String> cacheValues, int queryHeads, int kvHeads, int headDim) {

  /** Prunable units: K/V heads (= heads without GQA). */
  public int units() {
    return kvHeads;
  }

  /** Query heads per unit. */
  public int groupSize() {
    return queryHeads / kvHeads;
  }

  /** Channels of one unit on the q/o side: groupSize × headDim. */
  public int unitWidth() {
    return groupSize() * headDim;
  }

  public boolean grouped() {
    return queryHeads != kvHeads;
  }

  /** Columns of the q projection (= rows of the output projection) of the units in {@code units}. */
  public java.util.BitSet queryChannels(java.util.BitSet units) {
    return spread(units, unitWidth());
  }

  /** Columns of the k/v projections of the units in {@code units}. */
  public java.util.BitSet kvChannels(java.util.BitSet units) {
    return spread(units, headDim);
  }

  private static java.util.BitSet spread(java.util.BitSet units, int width) {
    java.util.BitSet cols = new java.util.BitSet();
    for (int u = units.nextSetBit(0); u >= 0; u = units.nextSetBit(u + 1)) {
      cols.set(u * width, (u + 1) * width);
    }
    return cols;
  }
}
