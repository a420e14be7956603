package dev.pruneserve.model;

/**
 * Lifecycle of a model in the registry, reported by RepositoryIndex with Triton's state strings.
 *
 * <pre>
 * from \ to     LOADING  READY  UNLOADING  UNAVAILABLE
 * UNAVAILABLE   load     -      -          -
 * LOADING       -        ok     -          failed
 * READY         -        reload -          (via UNLOADING)
 * UNLOADING     -        -      -          drained
 * </pre>
 *
 * A reload keeps the model READY on the old sessions until the new ones are warm, then switches.
 */
public enum ModelState {
  LOADING,
  READY,
  UNLOADING,
  UNAVAILABLE
}
