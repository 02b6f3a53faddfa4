"""Models: the frozen VT (CLIP) model and the audio encoder adapted from its image tower."""
