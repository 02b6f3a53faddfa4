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
