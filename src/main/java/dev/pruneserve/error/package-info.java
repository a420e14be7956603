/**
 * Transport-independent failures: an {@code ErrorKind} per cause and {@code ServingException}, whose message is safe to
 * show to the caller; the gRPC adapters map them to statuses.
 */
package dev.pruneserve.error;
