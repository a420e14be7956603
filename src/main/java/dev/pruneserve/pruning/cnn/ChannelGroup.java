package dev.pruneserve.pruning.cnn;

import java.util.List;

/**
 * A set of coupled channels: removing channel {@code c} removes slice {@code c} of every entry of
 * {@link #slices} at once (producer Conv rows and biases, BatchNormalization and per-channel affine
 * parameters, depthwise Conv rows, and every consumer's input slice). Channels of all producers
 * joined by a residual Add or an SE Mul share one index space of size {@link #channels}.
 *
 * @param id order of discovery (stable for one model)
 * @param producers names of the nodes that create these channels (Convs, in graph order)
 */
public record ChannelGroup(int id, int channels, List<String> producers, List<ChannelSlice> slices) {
  public ChannelGroup {
    producers = List.copyOf(producers);
    slices = List.copyOf(slices);
  }

  /** "channel group 3 [Conv_4, Conv_9]": how errors name this group. */
  public String label() {
    return "channel group " + id + " " + producers;
  }
}
