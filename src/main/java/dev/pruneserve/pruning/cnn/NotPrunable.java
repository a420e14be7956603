package dev.pruneserve.pruning.cnn;

import java.util.List;

/**
 * Why a set of coupled channels is left alone: the node ({@code opType}, {@code nodeName}) that
 * the engine cannot follow, or that pins the channels (graph inputs and outputs are reported with
 * op types {@code (input)} and {@code (output)} and the value name).
 *
 * @param producers the nodes that create the blocked channels (as in {@link ChannelGroup#producers})
 */
public record NotPrunable(String opType, String nodeName, String reason, List<String> producers) {
  public NotPrunable {
    producers = List.copyOf(producers);
  }
}
