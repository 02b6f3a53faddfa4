# Follow-up B (teacher curation): the teachers, the students each table needs, and the input/argument
# helpers of the rules in teacher.smk (kept apart from the rules, as snakemake --lint asks).
TC = P["teacher_curation"]
TC_TASKS = list(TC["tasks"])
TEACHER_POOL = CURATION_POOL["GC"]  # the teachers' captions: rows of the AudioCaps training pool
TEACHERS = REGISTRY.teachers  # full | sub -> {model, pairs}
# the students of each table (follow-up B tables 2 and 3), by (teacher, set, loss)
CURATION_STUDENTS = REGISTRY.students
CURATION_TEACHER_ROWS = {"curation_table2": ["at_GC"], "curation_table3": ["at_GC", "teacher_sub"]}


def teacher_curate_inputs(wildcards):
    t = TEACHERS[wildcards.teacher]
    kind, _, task = wildcards.tset.partition("_")
    named = {"teacher_pairs": t["pairs"], "pool": f"{W}/embed/text/{TEACHER_POOL}.csv"}
    if kind == "DS":
        named["labels"] = f"{W}/embed/text/labels_{task}_thisis.csv"
    else:
        named.update(
            audio=f"{W}/teacher/{wildcards.teacher}/audio.csv",
            clips=f"{W}/meta/va_train.csv",
            exclude=TEACHERS["full"]["pairs"],
        )
    if kind == "ADS":
        named["ds"] = f"{W}/teacher/{wildcards.teacher}/DS_{task}.csv"
    return named


def teacher_curate_args(wildcards, input):
    kind = wildcards.tset.partition("_")[0]
    if kind == "DS":
        return f"--labels {input.labels}"
    args = f"--teacher-audio {input.audio} --clips {input.clips} --exclude-pairs {input.exclude}"
    return args + (f" --ds-pairs {input.ds}" if kind == "ADS" else "")


def teacher_threshold(wildcards):
    return as_json(TC["thresholds"][wildcards.tset.partition("_")[0]])


def student_inputs(wildcards):
    """Init = the teacher; pairs = the improvement set (or the teacher's own pairs for SL alone); replay =
    the teacher's pairs (the DS set of the same task for ADS; none when training on the teacher's pairs)."""
    t = TEACHERS[wildcards.teacher]
    kind, _, task = wildcards.sset.partition("_")
    named = {
        "init": t["model"],
        "text": f"{W}/embed/text/{TEACHER_POOL}.csv",
        "val": f"{W}/embed/text/audiocaps_val.csv",
        "fbank": f"{W}/fbank/audioset/index.csv",
        "stats": f"{W}/fbank/stats.json",
    }
    named["pairs"] = t["pairs"] if kind == "own" else f"{W}/teacher/{wildcards.teacher}/{wildcards.sset}.csv"
    if kind in ("DU", "DS"):
        named["replay"] = t["pairs"]
    elif kind == "ADS":
        named["replay"] = f"{W}/teacher/{wildcards.teacher}/DS_{task}.csv"
    if wildcards.loss == "sl":
        named["teacher_audio"] = f"{W}/teacher/{wildcards.teacher}/audio.csv"
    return named


def student_args(wildcards, input):
    args = ""
    if "replay" in input.keys():
        args += f" --replay-pairs {input.replay} --replay-prob {TC['replay_prob']}"
    if wildcards.loss == "sl":
        args += f" --soft-label-alpha {TC['soft_label_alpha']} --teacher-audio {input.teacher_audio}"
    return args


def curation_table_inputs(name):
    """Every task's metrics of the teachers and the task-agnostic students; a DS/ADS student fills only
    its own target task's column."""
    tasks = ("esc50", "us8k", "tut17")
    cells = [(m, t) for m in CURATION_TEACHER_ROWS[name] for t in tasks]
    for teacher, sset, loss in CURATION_STUDENTS[name]:
        own = sset.partition("_")[2]
        cells += [(student_key(teacher, sset, loss), t) for t in tasks if not own or t == own]
    return [f"{W}/eval/{m}/{t}_zs/metrics.json" for m, t in cells]
