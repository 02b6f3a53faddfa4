"""Analyses built on finished runs: few-shot scaling fits (figure 7) and the figures of the papers."""
