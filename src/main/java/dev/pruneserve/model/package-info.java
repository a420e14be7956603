/**
 * The transport-independent serving core: the registry that routes model versions to reference-counted session handles,
 * leases, request validation and inference with statistics. Sessions are interfaces here, implemented by
 * {@code runtime}.
 */
package dev.pruneserve.model;
