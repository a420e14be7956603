/**
 * Quality of a pruned model against labels or its dense parent: causal-LM perplexity, KL and top-1 agreement,
 * classifier accuracy and agreement, and sentence-embedding agreement.
 */
package dev.pruneserve.eval;
