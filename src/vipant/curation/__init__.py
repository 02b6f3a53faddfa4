"""Curation of audio-text pairs (docs/design.md, Curation): unsupervised (AC, FC, VC), baselines (RC) and gold (GL, GC)."""
