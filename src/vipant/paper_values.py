"""The vip-AnT paper's reported numbers (Zhao et al., NAACL 2022), as data for side-by-side tables.

Copied from ``shared/papers/vipant-naacl2022.txt``; each entry cites its line there. Keys follow the
``metrics.json`` convention used by :mod:`vipant.tables`: row (model) key → task key → metric key.
All values are percentages.
"""

from __future__ import annotations

# Model row keys in the paper's order, with the display names the paper uses.
ROW_NAMES: dict[str, str] = {
    "va_rand": "VA-Rand",
    "vipant": "vip-AnT",
    "at_AC": "+AT w/ AC",
    "at_FC": "+AT w/ FC",
    "at_VC": "+AT w/ VC",
    "at_RC": "+AT w/ RC",
    "at_GL": "+AT w/ GL",
    "at_GC": "+AT w/ GC",
    "oracle_av_clip": "OracleAV-CLIP",
}


def _t3(ac: tuple[float, float, float, float], clotho: tuple[float, float, float, float] | None) -> dict:
    """One Table 3 row: (T→A R@1, T→A R@10, A→T R@1, A→T R@10) per dataset, the paper's column order."""
    keys = ("t2a_R@1", "t2a_R@10", "a2t_R@1", "a2t_R@10")
    row = {"audiocaps_retrieval": dict(zip(keys, ac))}
    if clotho is not None:
        row["clotho_retrieval"] = dict(zip(keys, clotho))
    return row


# Table 3: audio caption retrieval, AudioCaps test and Clotho evaluation.
TABLE3: dict[str, dict[str, dict[str, float]]] = {
    "va_rand": _t3((1.3, 7.3, 5.6, 24.5), (1.3, 7.5, 3.2, 13.5)),  # line 598
    "vipant": _t3((0.8, 7.9, 10.1, 38.1), (1.9, 9.5, 7.0, 25.6)),  # line 599
    "at_AC": _t3((9.9, 45.6, 15.2, 52.9), (6.7, 29.1, 7.1, 30.7)),  # line 600
    "at_FC": _t3((8.9, 41.5, 14.7, 50.0), (6.5, 27.7, 7.8, 29.7)),  # line 601
    "at_VC": _t3((6.9, 35.7, 13.5, 49.4), (5.5, 25.6, 7.6, 28.2)),  # line 602
    "at_RC": _t3((3.8, 19.9, 10.7, 38.1), (3.5, 16.9, 5.5, 24.9)),  # line 603
    "at_GL": _t3((12.4, 52.9, 13.0, 51.2), (6.7, 29.0, 6.8, 27.0)),  # line 611
    "at_GC": _t3((27.7, 78.0, 34.3, 79.7), (11.1, 40.5, 11.8, 41.0)),  # line 612
    # Line 614 has four numbers only: image–text retrieval on AudioCaps ("conducting image-text retrieval
    # on AudioCaps", lines 1203-1204; its T→A vs Image→Text comparison, lines 1206-1213). No Clotho values.
    "oracle_av_clip": _t3((4.8, 27.8, 6.6, 31.2), None),
}

# Table 3 reference row that we do not reproduce (Oncescu et al. 2021b), line 585.
TABLE3_REFERENCE: dict[str, dict[str, dict[str, float]]] = {
    "supervised_sota": _t3((18.0, 62.0, 21.0, 62.7), (4.0, 25.4, 4.8, 25.8)),
}


def _t4(esc: tuple[float, float], us8k: tuple[float, float], audioset: tuple[float, float]) -> dict:
    """One Table 4 row: (with prompt, without prompt — the parenthesised number) per dataset."""
    return {
        "esc50_zs": {"acc_prompt": esc[0], "acc_noprompt": esc[1]},
        "us8k_zs": {"acc_prompt": us8k[0], "acc_noprompt": us8k[1]},
        "audioset_zs": {"mAP_prompt": audioset[0], "mAP_noprompt": audioset[1]},
    }


# Table 4: zero-shot classification accuracy (ESC50, US8K) and mAP (AudioSet); prompt "the sound of ".
TABLE4: dict[str, dict[str, dict[str, float]]] = {
    "va_rand": _t4((37.6, 33.0), (41.9, 38.1), (1.7, 2.0)),  # line 638
    "vipant": _t4((57.1, 49.9), (44.7, 37.8), (2.6, 2.8)),  # line 640
    "at_AC": _t4((62.8, 55.7), (54.0, 47.0), (11.6, 12.3)),  # line 642
    "at_FC": _t4((62.5, 58.0), (52.7, 50.0), (11.2, 12.2)),  # line 644
    "at_VC": _t4((61.9, 58.0), (52.7, 50.3), (8.9, 10.7)),  # line 646
    "at_RC": _t4((51.6, 36.1), (42.3, 28.5), (4.1, 4.6)),  # line 648
    "at_GL": _t4((67.2, 64.5), (62.6, 61.0), (15.4, 18.9)),  # line 658
    "at_GC": _t4((69.5, 64.2), (71.9, 67.1), (13.3, 13.6)),  # line 660
}

# Table 4 reference rows that we do not reproduce. Supervised (line 625) is mean ± std over folds;
# Wav2CLIP (line 650) and AudioCLIP (line 662) report ESC50 and US8K only.
TABLE4_REFERENCE: dict[str, dict[str, dict[str, float]]] = {
    "supervised": {
        "esc50": {"acc": 95.7, "acc_std": 1.4},
        "us8k": {"acc": 86.0, "acc_std": 2.8},
        "audioset": {"mAP": 37.9},
    },
    "wav2clip": {"esc50_zs": {"acc_prompt": 41.4}, "us8k_zs": {"acc_prompt": 40.4}},
    "audioclip": {"esc50_zs": {"acc_prompt": 69.4}, "us8k_zs": {"acc_prompt": 65.3}},
}


def paper_value(table: dict[str, dict[str, dict[str, float]]], model: str, task: str, metric: str) -> float | None:
    """The paper's number for one cell, or None where the paper reports none (e.g. OracleAV-CLIP on Clotho)."""
    return table.get(model, {}).get(task, {}).get(metric)


# ---- Follow-up A (Tsubaki et al. 2024, shared/papers/temporal-agreement-nearest-multiframe-match.txt) ----
# Row keys are the `temporal.variants` names in config.yaml; values are (mean, std) over 3 seeds.
TEMPORAL_ROW_NAMES: dict[str, str] = {
    "random": "VIP-ANT (reproduction)",
    "nearest0": "Nearest Match (n = 0)",
    "nearest5": "Nearest Match (n = 5)",
    "nearest10": "Nearest Match (n = 10)",
    "nearest15": "Nearest Match (n = 15)",
    "multiframe": "Multiframe Match",
}


def _pairs(keys: tuple[str, ...], values: tuple[float, ...]) -> dict[str, tuple[float, float]]:
    return {k: (values[2 * i], values[2 * i + 1]) for i, k in enumerate(keys)}


_T3_KEYS = ("a2i_R@1", "a2i_R@5", "i2a_R@1", "i2a_R@5")
_T4_KEYS = ("t2a_R@1", "t2a_R@10", "a2t_R@1", "a2t_R@10")

# Table III: audio-image retrieval on AudioSet eval (lines 120-128).
TEMPORAL_TABLE3: dict[str, dict[str, tuple[float, float]]] = {
    "random": _pairs(_T3_KEYS, (10.94, 0.06, 26.49, 0.07, 11.89, 0.15, 27.94, 0.11)),
    "nearest0": _pairs(_T3_KEYS, (10.83, 0.09, 26.46, 0.14, 11.74, 0.30, 27.74, 0.10)),
    "nearest5": _pairs(_T3_KEYS, (10.94, 0.29, 26.59, 0.18, 11.85, 0.22, 27.96, 0.10)),
    "nearest10": _pairs(_T3_KEYS, (10.88, 0.18, 26.58, 0.21, 11.95, 0.08, 28.01, 0.27)),
    "nearest15": _pairs(_T3_KEYS, (10.69, 0.12, 26.96, 0.21, 12.14, 0.02, 28.19, 0.30)),
    "multiframe": _pairs(_T3_KEYS, (15.83, 0.09, 33.93, 0.13, 17.65, 0.23, 36.27, 0.19)),
}

# Table IV: audio-text retrieval on AudioCaps test after AT fine-tuning on gold captions (lines 129-137).
TEMPORAL_TABLE4: dict[str, dict[str, tuple[float, float]]] = {
    "random": _pairs(_T4_KEYS, (26.17, 0.10, 73.85, 0.94, 30.85, 0.78, 77.36, 1.26)),
    "nearest0": _pairs(_T4_KEYS, (25.84, 0.79, 73.64, 0.53, 29.63, 0.82, 77.71, 0.67)),
    "nearest5": _pairs(_T4_KEYS, (26.50, 0.25, 73.73, 0.28, 31.05, 0.70, 77.71, 0.26)),
    "nearest10": _pairs(_T4_KEYS, (26.50, 0.25, 73.74, 0.15, 30.69, 0.04, 77.59, 0.20)),
    "nearest15": _pairs(_T4_KEYS, (26.87, 0.27, 74.57, 0.34, 31.80, 0.66, 78.11, 0.52)),
    "multiframe": _pairs(_T4_KEYS, (25.20, 0.20, 71.96, 0.09, 29.90, 0.19, 75.74, 0.17)),
}


# ---- vip-AnT appendix (shared/papers/vipant-arxiv-with-appendix.txt) -------------------------------------
def _t8(ten: tuple[float, float, float, float], eighteen: tuple[float, float, float, float]) -> dict:
    """One Table 8 row: (T→A R@1, T→A R@10, A→T R@1, A→T R@10) with 10 s, then with 18 s Clotho audio."""
    keys = ("t2a_R@1", "t2a_R@10", "a2t_R@1", "a2t_R@10")
    return {"clotho_10s_retrieval": dict(zip(keys, ten)), "clotho_retrieval": dict(zip(keys, eighteen))}


# Table 8 (appendix D, line 318): Clotho evaluation retrieval with positional embeddings interpolated for
# 10 s and 18 s inputs. The 18 s half repeats Table 3's Clotho columns.
TABLE8: dict[str, dict[str, dict[str, float]]] = {
    "va_rand": _t8((1.4, 7.4, 3.2, 13.1), (1.3, 7.5, 3.2, 13.5)),
    "vipant": _t8((1.9, 10.1, 6.1, 23.7), (1.9, 9.5, 7.0, 25.6)),
    "at_AC": _t8((5.9, 26.3, 8.2, 30.3), (6.7, 29.1, 7.1, 30.7)),
    "at_FC": _t8((5.7, 26.6, 6.6, 28.0), (6.5, 27.7, 7.8, 29.7)),
    "at_VC": _t8((5.2, 25.2, 7.0, 25.9), (5.5, 25.6, 7.6, 28.2)),
    "at_RC": _t8((3.5, 16.3, 5.7, 23.6), (3.5, 16.9, 5.5, 24.9)),
    "at_GL": _t8((6.0, 27.1, 6.1, 25.4), (6.7, 29.0, 6.8, 27.0)),
    "at_GC": _t8((10.2, 39.0, 10.3, 37.2), (11.1, 40.5, 11.8, 41.0)),
}

# Figure 7 / §4.2 (line 263): ESC-50 human accuracy (Piczak 2015) and the paper's extrapolated number of
# gold pairs needed to reach it, log2 N ≈ 21 (≈ 2M pairs). The figure's own points are not in the text;
# the only one quoted is 442 pairs (≈ 1 % of AudioCaps) matching OracleAV-CLIP.
ESC50_HUMAN_ACCURACY = 81.0
FIGURE7_LOG2_N_HUMAN_PARITY = 21.0


# ---- Follow-up B (Wang et al. 2023, shared/papers/unsupervised-curation-soft-labels.txt) ------------------
# Zero-shot accuracy (%, mean and std over 3 runs) with the prompt "this is a sound of <label>". Row keys
# are the rows of vipant.tables' curation tables; per task: {"acc_prompt": mean, "acc_prompt_std": std}.
def _cb(esc: tuple[float, float], us8k: tuple[float, float], tut17: tuple[float, float]) -> dict:
    return {
        task: {"acc_prompt": v[0], "acc_prompt_std": v[1]}
        for task, v in (("esc50_zs", esc), ("us8k_zs", us8k), ("tut17_zs", tut17))
    }


# Table 2: students of the teacher trained on all paired data (lines 78-85).
CURATION_TABLE2: dict[str, dict[str, dict[str, float]]] = {
    "teacher": _cb((81.9, 0.9), (74.8, 1.2), (29.8, 1.3)),
    "SL": _cb((83.1, 1.2), (73.9, 2.6), (30.1, 2.1)),
    "DU": _cb((82.4, 1.4), (73.9, 0.2), (31.5, 1.0)),
    "DU+SL": _cb((83.0, 0.5), (74.9, 1.4), (29.9, 1.9)),
    "DS": _cb((78.8, 0.5), (73.2, 1.1), (29.8, 2.6)),
    "DS+SL": _cb((83.5, 0.6), (75.5, 1.4), (31.8, 2.6)),
    "ADS": _cb((84.2, 0.5), (74.2, 2.1), (32.5, 1.0)),
    "ADS+SL": _cb((85.1, 0.7), (77.4, 0.6), (36.0, 1.8)),
}

# Table 3: students of the teacher trained on a random 10 % of the paired data (lines 92-95).
CURATION_TABLE3: dict[str, dict[str, dict[str, float]]] = {
    "teacher_full": _cb((81.9, 0.9), (74.8, 1.2), (29.8, 1.3)),
    "teacher_sub": _cb((74.2, 1.3), (73.5, 2.0), (30.9, 1.6)),
    "DU+SL": _cb((78.9, 0.3), (73.7, 1.3), (28.8, 1.1)),
    "ADS+SL": _cb((81.3, 1.0), (74.5, 0.7), (31.3, 0.5)),
}


# ---- vip-AnT appendices C and E (shared/papers/vipant-naacl2022.txt) -------------------------------------
# Display names of the appendix rows that are not Table 3 models.
APPENDIX_ROW_NAMES: dict[str, str] = {
    "init_random": "random",
    "va_rand": "VA-Rand",
    "init_clip": "CLIP",
    "vipant": "vip-AnT",
    **{f"at_{c}": f"+AT w/ {c}" for c in ("AC", "FC", "VC", "RC", "GL", "GC")},
    **{f"vat_{c}": f"+VAT w/ {c}" for c in ("AC", "FC", "VC", "RC", "GL", "GC")},
}

# Table 7 (appendix C, lines 1003-1016): supervised classification, the encoder initialised from CLIP or
# from vip-AnT and then fine-tuned (ESC-50 / US8K: mean ± std accuracy over the folds; AudioSet: mAP of
# the balanced-set model, last k = 4 layers fine-tuned, lines 1032-1035). The unbalanced-set AudioSet number
# (44.7, whole encoder fine-tuned on ~2M clips) is not a probe we run, and the text gives no number for
# the random initialisation ("surpasses random initialization", lines 963-966). The AST columns are baselines
# we do not reproduce.
TABLE7: dict[str, dict[str, dict[str, float]]] = {
    "init_clip": {"esc50_probe": {"acc": 89.7, "acc_std": 1.5}, "us8k_probe": {"acc": 82.5, "acc_std": 6.0}},
    "vipant": {
        "esc50_probe": {"acc": 95.7, "acc_std": 1.4},
        "us8k_probe": {"acc": 86.0, "acc_std": 2.8},
        "audioset_probe": {"mAP": 37.9},
    },
}

# Appendix E (lines 1054-1065, figure 9 caption line 1128) compares VAT with AT fine-tuning on zero-shot ESC-50 accuracy and
# AudioCaps T→A R@1 but gives figure 9 as a plot only. Its AT points are the fine-tuned models of Tables
# 3 and 4, so those rows carry the Tables' numbers; the VAT cells have no paper value.
TABLE_VAT: dict[str, dict[str, dict[str, float]]] = {
    model: {
        "esc50_zs": {"acc_prompt": TABLE4[model]["esc50_zs"]["acc_prompt"]},
        "audiocaps_retrieval": {"t2a_R@1": TABLE3[model]["audiocaps_retrieval"]["t2a_R@1"]},
    }
    for model in ("vipant", "at_AC", "at_FC", "at_VC", "at_RC", "at_GL", "at_GC")
}
