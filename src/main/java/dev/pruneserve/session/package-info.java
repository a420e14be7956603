/**
 * What the domain needs of an inference runtime: a loaded model ({@code ModelSession}), a loader
 * ({@code SessionLoader}) and a carried multi-step run ({@code CarryRun}); implemented by
 * {@code runtime}, used by serving, pruning, training and evaluation alike.
 */
package dev.pruneserve.session;
