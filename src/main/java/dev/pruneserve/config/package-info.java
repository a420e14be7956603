/**
 * pruneserve's own settings ({@code pruneserve.*}) and the bearer tokens they name, re-read when the token file
 * changes.
 */
package dev.pruneserve.config;
