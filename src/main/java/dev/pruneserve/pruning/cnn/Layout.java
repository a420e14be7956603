package dev.pruneserve.pruning.cnn;

import java.util.ArrayList;
import java.util.List;

/**
 * How the channel axis of one value is made of channel sets: a [N, C, H, W] map (or [N, C, 1, 1]
 * after global pooling) is a sequence of segments (more than one after a Concat); {@code flat}
 * marks a [N, C·H·W] value after Flatten, whose spatial multiplicity its consumer determines.
 */
record Layout(List<Segment> segments, boolean flat) {
  /** {@code channels} consecutive channels of set {@code set}. */
  record Segment(int set, int channels) {}

  Layout {
    segments = List.copyOf(segments);
  }

  static Layout of(int set, int channels) {
    return new Layout(List.of(new Segment(set, channels)), false);
  }

  int channels() {
    return segments.stream().mapToInt(Segment::channels).sum();
  }

  Layout flattened() {
    return new Layout(segments, true);
  }

  /** Both have the same segment sizes in the same order (so they can be joined channel by channel). */
  boolean alignsWith(Layout o) {
    if (flat != o.flat || segments.size() != o.segments.size()) {
      return false;
    }
    for (int i = 0; i < segments.size(); i++) {
      if (segments.get(i).channels() != o.segments.get(i).channels()) {
        return false;
      }
    }
    return true;
  }

  static Layout concat(List<Layout> parts) {
    List<Segment> s = new ArrayList<>();
    parts.forEach(p -> s.addAll(p.segments));
    return new Layout(s, false);
  }
}
