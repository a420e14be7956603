package dev.pruneserve.pruning.cnn;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Union-find over channel sets, the working state of {@link ChannelDiscovery}. A set is created by
 * a producer (a Conv's output channels, a graph input); coupling ops join sets of equal size;
 * slices and blocks are recorded per set and gathered per root by {@link #result()}.
 * Not thread-safe.
 */
final class ChannelSets {
  private record Block(String opType, String nodeName, String reason) {}

  private final List<Integer> parent = new ArrayList<>();
  private final List<Integer> channels = new ArrayList<>();
  private final List<List<String>> producers = new ArrayList<>();
  private final List<List<ChannelSlice>> slices = new ArrayList<>();
  private final List<List<Block>> blocks = new ArrayList<>();

  int create(int size, String producer) {
    int id = parent.size();
    parent.add(id);
    channels.add(size);
    producers.add(new ArrayList<>(List.of(producer)));
    slices.add(new ArrayList<>());
    blocks.add(new ArrayList<>());
    return id;
  }

  int find(int s) {
    while (parent.get(s) != s) {
      parent.set(s, parent.get(parent.get(s)));
      s = parent.get(s);
    }
    return s;
  }

  /** Joins two sets of equal size; the lower id stays root, so group order follows the graph. */
  void union(int a, int b) {
    int ra = find(a);
    int rb = find(b);
    if (ra == rb) {
      return;
    }
    if (!channels.get(ra).equals(channels.get(rb))) {
      throw new IllegalStateException("joining sets of " + channels.get(ra) + " and " + channels.get(rb) + " channels");
    }
    parent.set(Math.max(ra, rb), Math.min(ra, rb));
  }

  void addSlice(int set, ChannelSlice slice) {
    slices.get(set).add(slice);
  }

  void block(int set, String opType, String nodeName, String reason) {
    blocks.get(set).add(new Block(opType, nodeName, reason));
  }

  /** Prunable groups (numbered in order) and one {@link NotPrunable} per distinct block of a root. */
  ChannelDependencies result() {
    Map<Integer, List<Integer>> members = new LinkedHashMap<>();
    for (int s = 0; s < parent.size(); s++) {
      members.computeIfAbsent(find(s), k -> new ArrayList<>()).add(s);
    }
    List<ChannelGroup> groups = new ArrayList<>();
    List<NotPrunable> notPrunable = new ArrayList<>();
    members.forEach((root, sets) -> {
      List<String> prod = new ArrayList<>();
      List<ChannelSlice> sl = new ArrayList<>();
      List<Block> bl = new ArrayList<>();
      for (int s : sets) {
        prod.addAll(producers.get(s));
        sl.addAll(slices.get(s));
        blocks.get(s).stream().filter(b -> !bl.contains(b)).forEach(bl::add);
      }
      if (bl.isEmpty()) {
        groups.add(new ChannelGroup(groups.size(), channels.get(root), prod, sl));
      } else {
        bl.forEach(b -> notPrunable.add(new NotPrunable(b.opType(), b.nodeName(), b.reason(), prod)));
      }
    });
    return new ChannelDependencies(groups, notPrunable);
  }
}
