/**
 * gRPC adapters: thin conversions between wire messages and the domain, bearer-token checks, and the one mapping of
 * failures to gRPC statuses. The only package that sees {@code io.grpc} and the generated {@code dev.pruneserve.api}
 * wire types.
 */
package dev.pruneserve.grpc;
