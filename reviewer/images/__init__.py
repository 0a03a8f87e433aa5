"""Images of an audit: where they are, safe decoding, and the blur/reveal pipeline.

``resolve`` finds an image's bytes (a file under a declared root, a member of a
tar shard, or a URL fetched into the audit's ``cache/``) and decodes them with
decompression-bomb checks. ``blur`` is the only producer of pixels that may reach
a terminal. Nothing here imports Textual.
"""
