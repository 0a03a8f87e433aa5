"""CLIP embeddings in the audit: aligned arrays per model, a vector index, probes.

The 2021 LAION-400M audit found its worst results by *probing*: typing a word
into a CLIP retrieval interface and looking at what came back. This package
keeps the embeddings LAION released (or the clip flagger computed) inside the
audit folder as memory-mapped ``.npy`` arrays, one set per model and kind
(image or text), each row tied to its sample; builds a vector index over a set;
and turns a query (text, a sample, a local picture) into a review queue.

No SQL lives here: sample ids come from :class:`reviewer.store.probes.ProbeQueries`.
"""
