package dev.pruneserve.pruning.transformer;

import java.util.List;

/**
 * The heads of one attention block. Head {@code h} is columns [h·hd, (h+1)·hd) of the q/k/v
 * projection weights [D, H·hd] (and the same entries of their biases, when present) and the same
 * rows of the output projection [H·hd, D]. Removing a head also rewrites the head count in the
 * head-split shapes ([…, H, hd]), the merged width in the merge shape ([…, H·hd]) and the declared
 * head dimension of KV-cache inputs and outputs.
 *
 * @param qkvBiases 1-D [H·hd] bias initializers added to the q/k/v projections (empty if none)
 * @param splitShapes the H element of each q/k/v Reshape target (distinct slots)
 * @param mergeShape the H·hd element of the merge Reshape target
 * @param cacheValues graph inputs/outputs of shape [batch, H, len, hd] tied to this block
 */
public record HeadGroup(int index, String qWeight, String kWeight, String vWeight, String oWeight,
    List<String> qkvBiases, List<ShapeSlot> splitShapes, ShapeSlot mergeShape, List<String> cacheValues, int heads,
    int headDim) {}
