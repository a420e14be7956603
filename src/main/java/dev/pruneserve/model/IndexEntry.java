package dev.pruneserve.model;

/** One RepositoryIndex row: a model version (empty when not loaded), its state and why. */
public record IndexEntry(String name, String version, ModelState state, String reason) {}
