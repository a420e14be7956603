/**
 * Structured pruning, laid out by concept: {@code transformer} (structure and surgery),
 * {@code calibration}, {@code criteria}, {@code cnn}, the gradient methods ({@code zo}, {@code ifso},
 * {@code taylor}), {@code search}, and {@code methods} (the registry); this package holds the
 * contracts they share: progress reporting and the validation of every edited model.
 */
package dev.pruneserve.pruning;
