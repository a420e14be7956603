package dev.pruneserve.model;

/**
 * Lifecycle of a model in the registry, reported by RepositoryIndex with Triton's state strings.
 *
 * <pre>
 * from \ to     LOADING  READY  UNLOADING  UNAVAILABLE
 * UNAVAILABLE   load     -      -          -
 * LOADING       -        ok     -          failed
 * READY         -        reload -          (via UNLOADING)
 * UNLOADING     -        -      -          routing stopped
 * </pre>
 *
 * A reload keeps the model READY on the old sessions until the new ones are warm, then switches.
 * UNAVAILABLE is reported as soon as routing stops; sessions still leased by in-flight requests
 * close when those finish.
 */
public enum ModelState {
  LOADING,
  READY,
  UNLOADING,
  UNAVAILABLE
}
