"""vip-AnT's tables: Table 3 (audio–text retrieval on AudioCaps and Clotho), Table 4 (zero-shot
classification on ESC-50, US8K and AudioSet, with and without the prompt), Table 8 (appendix D: Clotho
retrieval with 10 s and 18 s of audio), Table 7 (appendix C: supervised linear probe) and the VAT vs. AT
fine-tuning table (appendix E), each as its columns and rows for the generic builder."""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from vipant.paper_values import ROW_NAMES, TABLE3, TABLE4
from vipant.tables.build import Column, _build
from vipant.tables.metrics import PathLike, load_records

TABLE3_ROWS: tuple[str, ...] = tuple(ROW_NAMES)
TABLE4_ROWS: tuple[str, ...] = tuple(TABLE4)


def table3_columns() -> list[Column]:
    """AudioCaps and Clotho × T→A / A→T × R@1 / R@10, in the paper's column order."""
    cols = []
    for task, dataset in (("audiocaps_retrieval", "AudioCaps"), ("clotho_retrieval", "Clotho")):
        for direction, arrow in (("t2a", "T→A"), ("a2t", "A→T")):
            for k in ("R@1", "R@10"):
                key = f"{direction}_{k}"
                cols.append(Column(f"{dataset} {arrow} {k}", task, key, chance_key=key))
    return cols


def table4_columns() -> list[Column]:
    """ESC50 / US8K accuracy and AudioSet mAP with the prompt, then without it (the paper's parentheses)."""
    datasets = (("ESC50", "esc50_zs", "acc"), ("US8K", "us8k_zs", "acc"), ("AS", "audioset_zs", "mAP"))
    cols = [Column(label, task, f"{m}_prompt", chance_key=m) for label, task, m in datasets]
    cols += [Column(f"{label} no prompt", task, f"{m}_noprompt") for label, task, m in datasets]
    return cols


def table3(metrics_paths: Iterable[PathLike]) -> pd.DataFrame:
    """vip-AnT Table 3 (audio–text retrieval) from metrics.json files of tasks audiocaps/clotho_retrieval."""
    return _build("table3", load_records(metrics_paths), TABLE3_ROWS, table3_columns(), TABLE3)


def table4(metrics_paths: Iterable[PathLike]) -> pd.DataFrame:
    """vip-AnT Table 4 (zero-shot classification) from metrics.json files of tasks esc50/us8k/audioset_zs."""
    return _build("table4", load_records(metrics_paths), TABLE4_ROWS, table4_columns(), TABLE4)


# ---- vip-AnT Table 8 (appendix D): Clotho retrieval with 10 s and with 18 s of audio -----------------------
TABLE8_ROWS: tuple[str, ...] = tuple(m for m in ROW_NAMES if m != "oracle_av_clip")


def table8_columns() -> list[Column]:
    """10 s then 18 s × T→A / A→T × R@1 / R@10, in the paper's column order."""
    cols = []
    for task, length in (("clotho_10s_retrieval", "10 s"), ("clotho_retrieval", "18 s")):
        for direction, arrow in (("t2a", "T→A"), ("a2t", "A→T")):
            for k in ("R@1", "R@10"):
                key = f"{direction}_{k}"
                cols.append(Column(f"Clotho {length} {arrow} {k}", task, key, chance_key=key))
    return cols


def table8(metrics_paths: Iterable[PathLike]) -> pd.DataFrame:
    """vip-AnT Table 8 from metrics.json files of tasks clotho_10s_retrieval and clotho_retrieval."""
    from vipant.paper_values import TABLE8

    return _build("table8", load_records(metrics_paths), TABLE8_ROWS, table8_columns(), TABLE8)


# ---- vip-AnT appendices: Table 7 (supervised linear probe, C) and VAT vs. AT fine-tuning (E) ---------------
TABLE7_ROWS: tuple[str, ...] = ("init_random", "va_rand", "init_clip", "vipant")  # va_rand: optional extra row
TABLE_VAT_CURATIONS: tuple[str, ...] = ("AC", "FC", "VC", "RC", "GL", "GC")
TABLE_VAT_ROWS: tuple[str, ...] = ("vipant", *(f"{kind}_{c}" for c in TABLE_VAT_CURATIONS for kind in ("at", "vat")))


def table7_columns() -> list[Column]:
    """Balanced-AudioSet mAP, then US8K and ESC-50 accuracy (mean over folds) and its std, the paper's order."""
    return [
        Column("AS balanced mAP", "audioset_probe", "mAP", chance_key="mAP"),
        Column("US8K acc", "us8k_probe", "acc", chance_key="acc"),
        Column("US8K acc std", "us8k_probe", "acc_std"),
        Column("ESC50 acc", "esc50_probe", "acc", chance_key="acc"),
        Column("ESC50 acc std", "esc50_probe", "acc_std"),
    ]


def table7(metrics_paths: Iterable[PathLike]) -> pd.DataFrame:
    """vip-AnT Table 7: linear-probe classification per initialisation (random / CLIP / vip-AnT)."""
    from vipant.paper_values import APPENDIX_ROW_NAMES, TABLE7

    return _build("table7", load_records(metrics_paths), TABLE7_ROWS, table7_columns(), TABLE7, APPENDIX_ROW_NAMES)


def table_vat(metrics_paths: Iterable[PathLike]) -> pd.DataFrame:
    """vip-AnT appendix E: AT vs. VAT fine-tuning per curation on zero-shot ESC-50 and AudioCaps T→A R@1."""
    from vipant.paper_values import APPENDIX_ROW_NAMES, TABLE_VAT

    columns = [
        Column("ESC50 zero-shot acc", "esc50_zs", "acc_prompt", chance_key="acc"),
        Column("AudioCaps T→A R@1", "audiocaps_retrieval", "t2a_R@1", chance_key="t2a_R@1"),
    ]
    return _build("table_vat", load_records(metrics_paths), TABLE_VAT_ROWS, columns, TABLE_VAT, APPENDIX_ROW_NAMES)
