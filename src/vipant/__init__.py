"""vipant: visually pivoted audio and text (vip-AnT) and its follow-ups, as a reproducible workflow."""

__version__ = "0.1.0"
