package dev.pruneserve.pruning.transformer;

/**
 * The channels of one plain feed-forward block {@code fc2(act(x·W1 + b1))}, e.g. BERT's
 * intermediate/output (GELU) or a ReLU MLP: channel {@code c} is column {@code c} of W1 [D, F],
 * entry {@code c} of b1 [F] (if present) and row {@code c} of W2 [F, D]. The activation between
 * them is elementwise, so removing a channel removes exactly these slices.
 *
 * @param bias1 name of b1, or null
 */
public record FfnGroup(int index, String weight1, String bias1, String weight2, int width) {}
