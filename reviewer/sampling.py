"""Stratified sampling plans with inclusion probabilities (issue 4)."""
