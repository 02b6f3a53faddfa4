"""Inference on researchers' own audio files (``vipant classify``, ``search``, ``embed``).

``decode`` turns any file ffmpeg reads into the 16 kHz mono waveform the workflow trains on; ``locate``
finds a checkpoint and the frozen text encoder and FBANK statistics that belong to it; ``model`` loads
them; ``embedder`` turns files into audio embeddings and texts into text embeddings in the shared space.
"""
