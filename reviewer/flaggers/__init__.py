"""Automated flaggers: keyword, NSFW field, hate speech, CLIP (issue 3)."""
