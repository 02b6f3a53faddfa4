"""Features computed from downloaded media: frames and FBANK."""
