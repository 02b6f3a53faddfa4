"""Sizes, rates and the seed of the synthetic world (docs/design.md, The synthetic world).

``WorldConfig()`` is the demo world (whole world in about a minute or two on 2 cores);
``WorldConfig.tiny()`` is the test world (seconds). ``WorldConfig.from_dict`` builds one from the
``world:`` block of config.yaml: unknown keys are an error, list values become tuples.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, fields
from typing import Any, Mapping


class WorldConfigError(ValueError):
    """A world configuration is malformed (unknown key, impossible size)."""


@dataclass(frozen=True)
class WorldConfig:
    """Everything that shapes the generated world; the same config and seed give the same world."""

    seed: int = 0  # root of every random choice in the world

    # --- AudioSet-like YouTube clips (one video each under web/videos/) ---
    audioset_balanced_train: int = 200  # rows of balanced_train_segments.csv
    audioset_unbalanced_train: int = 500  # rows of unbalanced_train_segments.csv
    audioset_eval: int = 150  # rows of eval_segments.csv
    segment_seconds: float = 10.0  # length of an AudioSet segment
    video_min_seconds: float = 12.0  # shortest whole video (longer than the segment, so cutting matters)
    video_max_seconds: float = 16.0  # longest whole video
    segment_max_start: float = 8.0  # latest segment start inside its video (also capped by its length)
    events_min: int = 1  # fewest sounding events (sources) in a segment
    events_max: int = 3  # most sounding events in a segment
    event_min_seconds: float = 1.5  # shortest event
    event_max_seconds: float = 6.0  # longest event
    outside_event_prob: float = 0.6  # chance of an unlabelled event before / after the segment
    distractor_prob: float = 0.5  # chance that a clip shows silent visual distractors
    distractors_max: int = 2  # most distractor objects in a clip
    fps: int = 8  # video frame rate
    frame_sizes: tuple[tuple[int, int], ...] = ((320, 240), (426, 240))  # (width, height) a clip may have
    audio_rates: tuple[int, ...] = (16000, 22050, 32000, 44100, 48000)  # audio sample rates a clip may have
    audio_channels: tuple[int, ...] = (1, 2)  # channel counts a clip may have

    # --- in-the-wild defects of the AudioSet videos (recorded in truth/clips.jsonl) ---
    missing_video_rate: float = 0.05  # share of CSV rows whose video does not exist (deleted)
    no_audio_videos: int = 2  # videos without an audio stream
    short_videos: int = 2  # videos that end before their segment does
    corrupt_videos: int = 2  # undecodable files (truncated / garbage bytes)
    silent_videos: int = 1  # videos whose audio is digital silence

    # --- AudioCaps (captions of AudioSet clips) ---
    audiocaps_train: int = 300  # clips (1 caption each) drawn from the AudioSet train segments
    audiocaps_val: int = 40  # clips (5 captions each) drawn from the eval segments
    audiocaps_test: int = 80  # clips (5 captions each) drawn from the eval segments

    # --- Clotho (out-of-domain: longer clips, other synthesis parameters) ---
    clotho_development: int = 80  # development wav files
    clotho_evaluation: int = 40  # evaluation wav files
    clotho_min_seconds: float = 15.0  # shortest Clotho clip
    clotho_max_seconds: float = 30.0  # longest Clotho clip

    # --- classification sets ---
    esc50_classes: int = 50  # ESC-50 classes (capped by the number of sources)
    esc50_clips_per_class: int = 8  # 5 s clips per ESC-50 class
    us8k_clips_per_class: int = 12  # slices per UrbanSound8K class (10 classes)
    tut17_scenes: int = 6  # acoustic scenes of TUT17 (capped by the scene catalogue)
    tut17_segments_per_scene: int = 12  # 10 s segments per scene
    tut17_segments_per_recording: int = 3  # consecutive segments cut from one recording

    # --- images ---
    coco_train: int = 800  # MSCOCO-like train images (5 captions each)
    coco_val: int = 150  # MSCOCO-like val images
    vt_pairs: int = 2000  # image-caption pairs of the VT corpus (for the small CLIP)
    vt_val_fraction: float = 0.1  # share of VT pairs in vt_corpus/val.csv
    vt_image_size: int = 224  # side of the square VT corpus images
    # Objects drawn in their source's texture and backgrounds with a faint grating, so identity survives in
    # grey (docs/recipes.md, "How the synthetic world's look and the VT were chosen"); off: flat colours.
    textures: bool = False
    # With textures: captions that name an object's colour name its pattern too ("a red dog with fine
    # vertical stripes"), as alt-text names what it sees (docs/recipes.md); off: colour words only.
    pattern_words: bool = False

    def __post_init__(self) -> None:
        problems = []
        counts = [
            "audioset_balanced_train",
            "audioset_unbalanced_train",
            "audioset_eval",
            "audiocaps_train",
            "audiocaps_val",
            "audiocaps_test",
            "clotho_development",
            "clotho_evaluation",
            "esc50_classes",
            "esc50_clips_per_class",
            "us8k_clips_per_class",
            "tut17_scenes",
            "tut17_segments_per_scene",
            "tut17_segments_per_recording",
            "coco_train",
            "coco_val",
            "vt_pairs",
            "no_audio_videos",
            "short_videos",
            "corrupt_videos",
            "silent_videos",
            "distractors_max",
            "events_min",
            "events_max",
        ]
        for name in counts:
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                problems.append(f"{name} must be a non-negative integer, not {value!r}")
        if self.pattern_words and not self.textures:
            problems.append("pattern_words needs textures: the flat world draws no patterns to name")
        if problems:
            raise WorldConfigError("; ".join(problems))
        train = self.audioset_balanced_train + self.audioset_unbalanced_train
        checks = [
            (self.audiocaps_train <= train, "audiocaps_train exceeds the AudioSet train segments"),
            (
                self.audiocaps_val + self.audiocaps_test <= self.audioset_eval,
                "audiocaps_val + audiocaps_test exceed the AudioSet eval segments",
            ),
            (1 <= self.events_min <= self.events_max <= 3, "need 1 <= events_min <= events_max <= 3"),
            (
                0 < self.event_min_seconds <= self.event_max_seconds <= self.segment_seconds,
                "need 0 < event_min_seconds <= event_max_seconds <= segment_seconds",
            ),
            (
                self.segment_seconds < self.video_min_seconds <= self.video_max_seconds,
                "need segment_seconds < video_min_seconds <= video_max_seconds",
            ),
            (self.segment_max_start >= 0, "segment_max_start must be >= 0"),
            (0 <= self.missing_video_rate < 1, "missing_video_rate must be in [0, 1)"),
            (0 <= self.outside_event_prob <= 1 and 0 <= self.distractor_prob <= 1, "probabilities must be in [0, 1]"),
            (0 < self.vt_val_fraction < 1, "vt_val_fraction must be in (0, 1)"),
            (self.fps > 0, "fps must be positive"),
            (
                len(self.frame_sizes) > 0
                and all(w % 2 == 0 and h % 2 == 0 and w >= h >= 64 for w, h in self.frame_sizes),
                "frame_sizes must be even (width, height) pairs with width >= height >= 64",
            ),
            (
                len(self.audio_rates) > 0 and all(8000 <= r <= 96000 for r in self.audio_rates),
                "audio_rates must lie in 8000..96000",
            ),
            (len(self.audio_channels) > 0 and set(self.audio_channels) <= {1, 2}, "audio_channels must be 1 or 2"),
            (
                15.0 <= self.clotho_min_seconds <= self.clotho_max_seconds,
                "need 15 <= clotho_min_seconds <= clotho_max_seconds",
            ),
            (self.tut17_segments_per_recording >= 1, "tut17_segments_per_recording must be >= 1"),
            (self.vt_image_size >= 64, "vt_image_size must be >= 64"),
        ]
        problems = [msg for ok, msg in checks if not ok]
        n_defects = self.no_audio_videos + self.short_videos + self.corrupt_videos + self.silent_videos
        total = train + self.audioset_eval
        if n_defects + round(self.missing_video_rate * total) > total:
            problems.append("more defective videos than AudioSet clips")
        if problems:
            raise WorldConfigError("; ".join(problems))

    @property
    def audioset_total(self) -> int:
        """Number of AudioSet clips (= videos planned) over the three splits."""
        return self.audioset_balanced_train + self.audioset_unbalanced_train + self.audioset_eval

    @classmethod
    def tiny(cls, seed: int = 0) -> "WorldConfig":
        """A world for tests: every dataset and defect present, built in seconds."""
        return cls(
            seed=seed,
            audioset_balanced_train=12,
            audioset_unbalanced_train=20,
            audioset_eval=16,
            video_max_seconds=14.0,
            segment_max_start=3.0,
            missing_video_rate=0.05,
            no_audio_videos=1,
            short_videos=1,
            corrupt_videos=2,
            silent_videos=1,
            audiocaps_train=12,
            audiocaps_val=4,
            audiocaps_test=6,
            clotho_development=4,
            clotho_evaluation=3,
            clotho_min_seconds=15.0,
            clotho_max_seconds=16.0,
            esc50_classes=10,
            esc50_clips_per_class=5,
            us8k_clips_per_class=2,
            tut17_scenes=3,
            tut17_segments_per_scene=4,
            tut17_segments_per_recording=1,
            coco_train=12,
            coco_val=6,
            vt_pairs=60,
        )

    @classmethod
    def from_dict(cls, d: Mapping[str, Any] | None) -> "WorldConfig":
        """Build from a mapping (e.g. YAML/JSON); unknown keys raise :class:`WorldConfigError`.

        A ``preset`` key (``"default"`` or ``"tiny"``) picks the starting values the others override.
        """
        d = dict(d or {})
        preset = d.pop("preset", "default")
        if preset not in ("default", "tiny"):
            raise WorldConfigError(f"world preset must be 'default' or 'tiny', not {preset!r}")
        known = {f.name: f for f in fields(cls)}
        unknown = sorted(set(d) - set(known))
        if unknown:
            raise WorldConfigError(f"unknown world config key(s) {unknown}; known keys: {', '.join(sorted(known))}")
        base = cls.tiny() if preset == "tiny" else cls()
        values = {k: _tupled(v) for k, v in d.items()}
        try:
            return dataclasses.replace(base, **values)
        except TypeError as err:
            raise WorldConfigError(str(err)) from None

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form (tuples become lists); ``from_dict(to_dict())`` gives the same config."""
        return {k: _listed(v) for k, v in dataclasses.asdict(self).items()}


def _tupled(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(_tupled(v) for v in value)
    return value


def _listed(value: Any) -> Any:
    if isinstance(value, (tuple, list)):
        return [_listed(v) for v in value]
    return value


__all__ = ["WorldConfig", "WorldConfigError"]
