"""The rules of a review session, without Textual: queue, session, wellbeing, summary.

The review app (:mod:`reviewer.tui`) only translates keys into calls on these
objects and draws what they return, so every rule — what comes next, undo, breaks,
daily exposure — is tested without a terminal. An import-linter contract keeps
Textual out of this package.
"""
