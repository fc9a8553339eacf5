"""Russian text: tokens, lemmas, normalisation for comparison, shingles. Pure, no I/O."""
