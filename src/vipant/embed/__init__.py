"""Caches of frozen-encoder embeddings: every frame and every text pool is encoded once."""
