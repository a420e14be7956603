/**
 * OpenAI-compatible routes ({@code /v1/completions}, {@code /v1/chat/completions}, {@code
 * /v1/embeddings}, {@code /v1/models}): request parsing in OpenAI's field names, responses and
 * server-sent events framed as the OpenAI API frames them, errors in its error body.
 */
package dev.pruneserve.http.openai;
