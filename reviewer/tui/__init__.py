"""The Textual review app (issue 6)."""
