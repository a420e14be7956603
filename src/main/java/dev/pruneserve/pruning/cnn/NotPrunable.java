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

  /** "op 'node': reason", the form refusals and reports use. */
  public String describe() {
    return opType + " '" + nodeName + "': " + reason;
  }

  /** The distinct descriptions of {@code blocked}, at most {@code limit}, then how many more. */
  public static String describe(List<NotPrunable> blocked, int limit) {
    List<String> d = blocked.stream().map(NotPrunable::describe).distinct().toList();
    return String.join("; ", d.subList(0, Math.min(limit, d.size()))) + (d.size() > limit ? "; and " + (d.size()
        - limit) + " more" : "");
  }
}
