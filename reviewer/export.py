"""Export of labelled subsets and removal lists (issue 5)."""
