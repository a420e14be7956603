package dev.pruneserve.pruning.cnn;

import java.util.List;

/**
 * What {@link ChannelDiscovery} found in one model: the prunable groups and, for every channel set
 * that may not be pruned, why.
 */
public record ChannelDependencies(List<ChannelGroup> groups, List<NotPrunable> notPrunable) {
  public ChannelDependencies {
    groups = List.copyOf(groups);
    notPrunable = List.copyOf(notPrunable);
  }
}
