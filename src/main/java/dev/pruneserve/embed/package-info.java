/**
 * Sentence embeddings from encoder models (tokenize, batch, run, mean-pool, optionally L2-normalise) and the import of
 * all-MiniLM-L6-v2 into the repository.
 */
package dev.pruneserve.embed;
