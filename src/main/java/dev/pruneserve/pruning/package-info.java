/**
 * Structured pruning of transformer decoders and encoders: dependency discovery by graph pattern, weight-only and
 * calibration criteria (random, magnitude, Wanda-SP, FLAP), surgery, in-graph calibration taps and LM loss, and
 * validation of edited models.
 */
package dev.pruneserve.pruning;
