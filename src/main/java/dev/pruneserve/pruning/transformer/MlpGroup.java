package dev.pruneserve.pruning.transformer;

/**
 * The channels of one gated MLP ({@code down(silu(x·gate) ⊙ x·up)}): channel {@code c} is column
 * {@code c} of the gate and up weights [D, F] and row {@code c} of the down weight [F, D]. Removing
 * a channel removes all three slices together.
 *
 * @param index order of discovery (= layer order in exported decoders)
 * @param width F, the number of channels
 */
public record MlpGroup(int index, String gateWeight, String upWeight, String downWeight, int width) {}
