/** Concurrency helpers shared by every layer (named daemon threads). Depends on nothing of pruneserve. */
package dev.pruneserve.concurrent;
