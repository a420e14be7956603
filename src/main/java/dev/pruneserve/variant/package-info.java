/**
 * Pruning while serving: prune jobs deduplicated by variant id, the on-disk variant store and manifests, pins, and
 * aliases that hot-swap what a name serves.
 */
package dev.pruneserve.variant;
