/**
 * Fetched, sha256-verified models and data sets (stories15M, all-MiniLM-L6-v2, Fashion-MNIST) in the fixture cache
 * outside git, used as the server's default models and by the tests.
 */
package dev.pruneserve.assets;
