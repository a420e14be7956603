package dev.pruneserve.pruning;

import java.util.List;

/**
 * The heads of one attention block. Head {@code h} is columns [h·hd, (h+1)·hd) of the q/k/v
 * projection weights [D, H·hd] and the same rows of the output projection [H·hd, D]. Removing a head
 * also rewrites the head-split shape constants ([0, 0, H, hd]), the merge shape ([0, 0, H·hd]) and
 * the declared head dimension of the KV-cache inputs and outputs.
 *
 * @param splitShapes int64 initializers [0, 0, H, hd] of the q/k/v Reshapes (may be shared)
 * @param cacheValues graph inputs/outputs of shape [batch, H, len, hd] tied to this block
 */
public record HeadGroup(int index, String qWeight, String kWeight, String vWeight, String oWeight,
    List<String> splitShapes, String mergeShape, List<String> cacheValues, int heads, int headDim) {}
