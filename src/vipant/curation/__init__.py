"""Curation of audio-text pairs (SPEC 5): unsupervised (AC, FC, VC), baselines (RC) and gold (GL, GC)."""
