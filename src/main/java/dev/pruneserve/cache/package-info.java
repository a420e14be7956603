/**
 * Keeps loaded variants within a byte budget, evicting the least recently served first; the only package that uses
 * Caffeine.
 */
package dev.pruneserve.cache;
