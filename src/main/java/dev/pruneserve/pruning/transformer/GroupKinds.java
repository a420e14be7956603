package dev.pruneserve.pruning.transformer;

/**
 * Which kinds of transformer groups a recipe prunes (request option {@code groups}): both
 * (default), only MLP/FFN channels, or only attention heads (KV groups under GQA). With {@link
 * #MLP}, attention blocks that discovery could not match do not block pruning, since no head is
 * removed; with {@link #ALL} they are refused, so nothing is pruned at a narrower scope than asked.
 */
public enum GroupKinds {
  ALL, MLP, ATTENTION;

  public boolean heads() {
    return this != MLP;
  }

  public boolean channels() {
    return this != ATTENTION;
  }
}
