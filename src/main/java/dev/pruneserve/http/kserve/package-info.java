/**
 * KServe v2 REST ({@code /v2}: health, server and model metadata, {@code infer} with JSON tensors
 * and Triton's binary-data extension) and Triton's {@code generate} / {@code generate_stream}
 * extension, over the same services as the gRPC v2 adapter.
 */
package dev.pruneserve.http.kserve;
