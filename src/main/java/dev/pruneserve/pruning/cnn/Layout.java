package dev.pruneserve.pruning.cnn;

import java.util.ArrayList;
import java.util.List;

/**
 * How the channel axis of one value is made of channel sets: a [N, C, H, W] map (or [N, C, 1, 1]
 * after global pooling) is a sequence of segments (more than one after a Concat) on axis 1 of a
 * rank-4 value; after a Transpose to channels-last ([N, H, W, C], tf2onnx's layout) the channel
 * axis is 3. {@code flat} marks a [N, C·k] value (after Flatten, or a reduction to [N, C]) whose
 * multiplicity k its consumer determines.
 *
 * @param axis the channel axis (1 for NCHW and for flat values)
 * @param rank the value's rank (2 for flat values)
 */
record Layout(List<Segment> segments, boolean flat, int axis, int rank) {
  /** {@code channels} consecutive channels of set {@code set}. */
  record Segment(int set, int channels) {}

  Layout {
    segments = List.copyOf(segments);
    if (axis < 0 || axis >= rank) {
      throw new IllegalArgumentException("channel axis " + axis + " outside rank " + rank);
    }
  }

  /** A channel-first map of {@code rank} (4 for a 2-D convolution's output). */
  static Layout of(int set, int channels, int rank) {
    return new Layout(List.of(new Segment(set, channels)), false, 1, rank);
  }

  int channels() {
    return segments.stream().mapToInt(Segment::channels).sum();
  }

  /** Channel-first ([N, C, …]): what Conv, BatchNormalization and pooling read. */
  boolean channelFirst() {
    return !flat && axis == 1;
  }

  Layout flattened() {
    return new Layout(segments, true, 1, 2);
  }

  /** The same channels at {@code axis} of a value of {@code rank}. */
  Layout moved(int axis, int rank) {
    return new Layout(segments, false, axis, rank);
  }

  /**
   * Both have the same segment sizes in the same order on the same axis counted from the end (so
   * they broadcast against each other channel by channel).
   */
  boolean alignsWith(Layout o) {
    if (flat != o.flat || rank - axis != o.rank - o.axis || segments.size() != o.segments.size()) {
      return false;
    }
    for (int i = 0; i < segments.size(); i++) {
      if (segments.get(i).channels() != o.segments.get(i).channels()) {
        return false;
      }
    }
    return true;
  }

  /** Parts joined along their common channel axis (callers check they share it). */
  static Layout concat(List<Layout> parts) {
    List<Segment> s = new ArrayList<>();
    parts.forEach(p -> s.addAll(p.segments));
    return new Layout(s, false, parts.get(0).axis, parts.get(0).rank);
  }
}
