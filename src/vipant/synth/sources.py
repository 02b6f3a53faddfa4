"""The catalogue of the synthetic world: sound sources, acoustic scenes, and the dataset class lists.

Every source has an AudioSet-like display name and machine id, a procedural sound recipe (one of the
families below, with parameters of its own so sources differ in a 128-bin log-mel spectrogram), a
visual appearance (a colour of its own, a shape, and a texture that the textured world draws: shape x
texture is unique, so there a source can be told apart in grey too), a visual noun, and caption phrases
in an audio-focused register (AudioCaps/Clotho-like) and a vision-focused one (COCO-like). The catalogue is fixed (not
drawn from the seed): the seed only decides how the world uses it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Union

# ----------------------------------------------------------------------------------------- recipes


@dataclass(frozen=True)
class Harmonic:
    """A pitched tone: harmonics of f0, with vibrato, glide and on/off pulses (barks, sirens, notes)."""

    family: ClassVar[str] = "harmonic"
    f0: float  # fundamental frequency (Hz)
    n_harmonics: int = 8  # number of partials k * f0
    rolloff: float = 0.6  # amplitude ratio between successive partials
    vibrato_rate: float = 0.0  # vibrato frequency (Hz)
    vibrato_depth: float = 0.0  # vibrato depth (semitones)
    glide: float = 0.0  # pitch change over each pulse, or the whole event when unpulsed (semitones)
    pulse_rate: float = 0.0  # pulses (notes) per second; 0 = one continuous tone
    duty: float = 1.0  # sounding share of each pulse period
    noise: float = 0.0  # share of breathy/raspy noise mixed in (0..1)
    chord: tuple[float, ...] = (0.0,)  # extra voices at these semitone offsets (two-tone horns)
    notes: tuple[float, ...] = (0.0,)  # semitone offsets a pulse picks its pitch from (melodies)


@dataclass(frozen=True)
class Bell:
    """Struck partials with exponential decay (bells, plucked and hammered strings)."""

    family: ClassVar[str] = "bell"
    f0: float  # base frequency (Hz)
    ratios: tuple[float, ...]  # partial frequencies as multiples of f0 (inharmonic for bells)
    decay: float  # decay time constant of the lowest partial (s)
    strike_rate: float  # strikes per second
    brightness: float = 0.7  # amplitude ratio between successive partials
    notes: tuple[float, ...] = (0.0,)  # semitone offsets a strike picks its pitch from
    cycle_notes: bool = False  # walk the notes in order (ding-dong) instead of at random


@dataclass(frozen=True)
class Noise:
    """Band-passed noise with amplitude modulation, bursts, crackle and an optional steady whine."""

    family: ClassVar[str] = "noise"
    centre: float  # centre of the pass band (Hz)
    bandwidth: float  # width of the pass band (octaves, Gaussian in log frequency)
    am_rate: float = 0.0  # amplitude-modulation rate (Hz)
    am_depth: float = 0.0  # amplitude-modulation depth (0..1)
    am_random: bool = False  # modulate with smoothed random noise instead of a sine (gusts, surf)
    burst_rate: float = 0.0  # noise bursts per second; 0 = continuous
    burst_duty: float = 1.0  # sounding share of each burst period
    crackle_rate: float = 0.0  # random clicks per second on top (rain drops, fire crackle)
    crackle_freq: float = 3000.0  # resonance of the crackle clicks (Hz)
    tone: float = 0.0  # frequency of a steady whine/hum added (Hz); 0 = none


@dataclass(frozen=True)
class Clicks:
    """Impulse trains through a resonance (ticks, knocks, footsteps, rotor blades, applause)."""

    family: ClassVar[str] = "clicks"
    rate: float  # impulses (or groups) per second
    resonance: float  # frequency of the damped resonance each impulse excites (Hz)
    decay_ms: float  # decay time of that resonance (ms)
    jitter: float = 0.0  # random timing jitter as a share of the period (0..1)
    noise: float = 0.3  # share of broadband noise burst in each impulse (0..1)
    group: int = 1  # impulses per group (3 = knock-knock-knock)
    group_gap: float = 0.15  # spacing of impulses inside a group (s)


@dataclass(frozen=True)
class Chirp:
    """Repeated exponential frequency sweeps (bird chirps)."""

    family: ClassVar[str] = "chirp"
    f_start: float  # sweep start frequency (Hz)
    f_end: float  # sweep end frequency (Hz)
    chirp_seconds: float  # duration of one sweep (s)
    rate: float  # sweeps per second
    jitter: float = 0.3  # random timing jitter as a share of the period
    harmonics: int = 1  # partials of each sweep


@dataclass(frozen=True)
class FM:
    """Frequency-modulated tone with pulsed gating and tremolo (telephone bells, insects)."""

    family: ClassVar[str] = "fm"
    carrier: float  # carrier frequency (Hz)
    mod_freq: float  # modulator frequency (Hz)
    index: float  # modulation index (peak phase deviation, radians)
    pulse_rate: float = 0.0  # rings per second; 0 = continuous
    duty: float = 1.0  # sounding share of each ring period
    tremolo_rate: float = 0.0  # fast amplitude modulation (Hz)


Recipe = Union[Harmonic, Bell, Noise, Clicks, Chirp, FM]

# ---------------------------------------------------------------------------------------- visuals

SHAPES: tuple[str, ...] = ("circle", "square", "triangle", "diamond", "star", "cross", "ring", "hexagon")
# One colour per source: the 48 most saturated points of a 4-level RGB grid (levels 40/110/180/250; every
# pair differs by >= 70 in RGB), each named after the nearest CSS colour. The small synthetic VT learns
# colour within the demo's few hundred steps but not shape (docs/recipes.md), so a source's colour is what
# lets the pivot tell it apart; in the textured world each source also wears a texture (below).
COLOURS: dict[str, tuple[int, int, int]] = {
    "blue": (40, 40, 250),
    "royal blue": (40, 110, 250),
    "dodger blue": (40, 180, 250),
    "lime": (40, 250, 40),
    "spring green": (40, 250, 110),
    "turquoise": (40, 250, 180),
    "aqua": (40, 250, 250),
    "blue violet": (110, 40, 250),
    "lawn green": (110, 250, 40),
    "orchid": (180, 40, 250),
    "green yellow": (180, 250, 40),
    "crimson": (250, 40, 40),
    "rose": (250, 40, 110),
    "deep pink": (250, 40, 180),
    "fuchsia": (250, 40, 250),
    "vermilion": (250, 110, 40),
    "goldenrod": (250, 180, 40),
    "yellow": (250, 250, 40),
    "dark slate blue": (40, 40, 180),
    "steel blue": (40, 110, 180),
    "lime green": (40, 180, 40),
    "medium sea green": (40, 180, 110),
    "light sea green": (40, 180, 180),
    "indigo": (110, 40, 180),
    "slate blue": (110, 110, 250),
    "olive drab": (110, 180, 40),
    "cornflower blue": (110, 180, 250),
    "light green": (110, 250, 110),
    "aquamarine": (110, 250, 180),
    "light sky blue": (110, 250, 250),
    "firebrick": (180, 40, 40),
    "medium violet red": (180, 40, 110),
    "dark orchid": (180, 40, 180),
    "chocolate": (180, 110, 40),
    "medium purple": (180, 110, 250),
    "yellow green": (180, 180, 40),
    "pale green": (180, 250, 110),
    "salmon": (250, 110, 110),
    "hot pink": (250, 110, 180),
    "violet": (250, 110, 250),
    "sandy brown": (250, 180, 110),
    "khaki": (250, 250, 110),
    "midnight blue": (40, 40, 110),
    "forest green": (40, 110, 40),
    "sea green": (40, 110, 110),
    "saddle brown": (110, 40, 40),
    "purple": (110, 40, 110),
    "dark olive green": (110, 110, 40),
}
_COLOUR_NAMES = tuple(COLOURS)


@dataclass(frozen=True)
class Texture:
    """A luminance pattern filling an object: the identity that survives in grey.

    ``kind`` is ``stripes`` (bands at ``angle`` degrees), ``checks`` (a checkerboard turned by ``angle``)
    or ``dots`` (dark discs on a lattice turned by ``angle``); ``period`` is the pattern's period in
    pixels of the drawn object. Oriented lines of a given spatial frequency are what a spectrogram is made
    of (harmonics, onsets, chirps), so an image tower that tells these apart hands g_A a useful start.
    """

    kind: str
    angle: int  # degrees
    period: int  # pixels

    @property
    def name(self) -> str:
        return f"{self.kind}-{self.angle}-{self.period}"

    @property
    def phrase(self) -> str:
        """How a caption describes it: "fine vertical stripes", "broad diamond checks"."""
        return f"{_FINENESS[self.period]} {_PATTERN_WORDS[self.kind, self.angle]}"


# 24 textures: stripes at 4 orientations, checks and dots at 2, each at 3 spatial frequencies.
TEXTURE_PERIODS: tuple[int, ...] = (6, 10, 16)
# Caption words for them (world option pattern_words). Angle 0 bands vary along x (vertical stripes); image
# y points down, so 45 degree stripes rise to the right and 135 degree ones fall.
_FINENESS = {6: "fine", 10: "medium", 16: "broad"}
_PATTERN_WORDS = {
    ("stripes", 0): "vertical stripes",
    ("stripes", 45): "rising diagonal stripes",
    ("stripes", 90): "horizontal stripes",
    ("stripes", 135): "falling diagonal stripes",
    ("checks", 0): "checks",
    ("checks", 45): "diamond checks",
    ("dots", 0): "dots",
    ("dots", 45): "diagonal dots",
}
TEXTURES: tuple[Texture, ...] = tuple(
    Texture("stripes", a, p) for a in (0, 45, 90, 135) for p in TEXTURE_PERIODS
) + tuple(Texture(k, a, p) for k in ("checks", "dots") for a in (0, 45) for p in TEXTURE_PERIODS)

# ---------------------------------------------------------------------------------------- sources


@dataclass(frozen=True)
class Source:
    """One sound source of the world, as it sounds, looks and is talked about."""

    name: str  # AudioSet-like display name ("Dog", "Violin, fiddle")
    mid: str  # AudioSet-style machine id ("/m/0vip01")
    recipe: Recipe  # procedural sound
    shape: str  # drawn shape (one of SHAPES)
    texture: Texture  # luminance pattern inside the shape in the textured world (one of TEXTURES)
    colour: str  # colour name (key of COLOURS)
    noun: str  # what the object is called in images ("dog", "church bell")
    parent: str  # ontology parent category name ("Animal")
    esc50: str  # ESC-50-style class name, lower_snake_case ("dog", "church_bells")
    clauses: tuple[str, ...]  # audio register, full clauses ("a dog barks repeatedly")
    gerunds: tuple[str, ...]  # audio register, noun + gerund ("a dog barking")
    poses: tuple[str, ...]  # vision register participles ("standing", "parked")

    @property
    def family(self) -> str:
        """Name of the recipe family ("harmonic", "bell", "noise", "clicks", "chirp", "fm")."""
        return self.recipe.family

    @property
    def rgb(self) -> tuple[int, int, int]:
        """The drawing colour."""
        return COLOURS[self.colour]


# (name, noun, parent, esc50 class, recipe, clauses, gerunds, poses)
_TABLE: list[tuple[str, str, str, str, Recipe, tuple[str, ...], tuple[str, ...], tuple[str, ...]]] = [
    # Animals
    (
        "Dog",
        "dog",
        "Animal",
        "dog",
        Harmonic(480, 10, 0.7, glide=-5, pulse_rate=2.2, duty=0.3, noise=0.35),
        ("a dog barks", "a dog barks repeatedly", "a small dog barks loudly"),
        ("a dog barking", "dogs barking"),
        ("standing", "sitting", "running"),
    ),
    (
        "Cat",
        "cat",
        "Animal",
        "cat",
        Harmonic(650, 6, 0.55, vibrato_rate=5, vibrato_depth=0.3, glide=6, pulse_rate=0.6, duty=0.75, noise=0.1),
        ("a cat meows", "a cat meows plaintively", "a kitten mews"),
        ("a cat meowing", "a kitten mewing"),
        ("sitting", "lying", "sleeping"),
    ),
    (
        "Chicken, rooster",
        "rooster",
        "Animal",
        "rooster",
        Harmonic(1100, 5, 0.5, vibrato_rate=9, vibrato_depth=0.4, glide=4, pulse_rate=0.35, duty=0.8, noise=0.2),
        ("a rooster crows", "a rooster crows loudly", "a chicken clucks and a rooster crows"),
        ("a rooster crowing", "a chicken crowing"),
        ("standing", "strutting"),
    ),
    (
        "Cow",
        "cow",
        "Animal",
        "cow",
        Harmonic(130, 20, 0.82, glide=-3, pulse_rate=0.35, duty=0.85, noise=0.1),
        ("a cow moos", "a cow moos loudly", "cattle moo"),
        ("a cow mooing", "cattle mooing"),
        ("grazing", "standing"),
    ),
    (
        "Frog",
        "frog",
        "Animal",
        "frog",
        Harmonic(220, 12, 0.75, pulse_rate=7, duty=0.45),
        ("a frog croaks", "frogs croak rhythmically"),
        ("a frog croaking", "frogs croaking"),
        ("sitting", "resting"),
    ),
    (
        "Bird",
        "bird",
        "Animal",
        "chirping_birds",
        Chirp(2800, 4800, 0.07, rate=7, jitter=0.4),
        ("a bird chirps", "birds chirp and tweet", "a bird sings"),
        ("birds chirping", "a bird singing"),
        ("perched", "flying"),
    ),
    (
        "Crow",
        "crow",
        "Animal",
        "crow",
        Harmonic(550, 14, 0.85, glide=-2, pulse_rate=1.6, duty=0.35, noise=0.55),
        ("a crow caws", "crows caw loudly"),
        ("a crow cawing", "crows cawing"),
        ("perched", "flying"),
    ),
    (
        "Cricket",
        "cricket",
        "Animal",
        "crickets",
        FM(4600, 35, 0.8, pulse_rate=2.5, duty=0.5, tremolo_rate=35),
        ("crickets trill", "a cricket buzzes steadily"),
        ("crickets trilling", "insects buzzing"),
        ("sitting", "resting"),
    ),
    # Natural sounds
    (
        "Rain",
        "rain cloud",
        "Natural sounds",
        "rain",
        Noise(3500, 3.0, crackle_rate=150, crackle_freq=5000),
        ("rain falls", "heavy rain pours down", "rain patters steadily"),
        ("rain falling", "rain pouring down"),
        ("floating", "hanging"),
    ),
    (
        "Wind",
        "windsock",
        "Natural sounds",
        "wind",
        Noise(350, 1.2, am_rate=0.4, am_depth=0.8, am_random=True),
        ("wind blows", "strong wind howls", "the wind gusts"),
        ("wind blowing", "wind howling"),
        ("flapping", "standing"),
    ),
    (
        "Thunder",
        "storm cloud",
        "Natural sounds",
        "thunderstorm",
        Noise(90, 2.0, am_rate=0.25, am_depth=0.9, am_random=True, crackle_rate=3, crackle_freq=400),
        ("thunder rumbles", "thunder roars in a storm"),
        ("thunder rumbling", "a thunderstorm rumbling"),
        ("looming", "floating"),
    ),
    (
        "Stream",
        "stream",
        "Natural sounds",
        "water_stream",
        Noise(1800, 1.0, am_rate=6, am_depth=0.35, am_random=True),
        ("water flows in a stream", "a stream trickles and babbles"),
        ("a stream flowing", "water trickling"),
        ("flowing", "winding"),
    ),
    (
        "Waves, surf",
        "wave",
        "Natural sounds",
        "sea_waves",
        Noise(900, 3.0, am_rate=0.12, am_depth=0.95),
        ("waves crash on the shore", "sea waves wash ashore"),
        ("waves crashing", "sea waves splashing"),
        ("breaking", "rolling"),
    ),
    (
        "Fire",
        "campfire",
        "Natural sounds",
        "crackling_fire",
        Noise(500, 2.0, am_rate=1.0, am_depth=0.3, am_random=True, crackle_rate=25, crackle_freq=2500),
        ("a fire crackles", "a crackling fire pops and hisses"),
        ("a fire crackling", "a campfire crackling"),
        ("burning", "glowing"),
    ),
    # Vehicles
    (
        "Engine",
        "car",
        "Vehicle",
        "engine",
        Harmonic(42, 30, 0.9, vibrato_rate=0.5, vibrato_depth=0.3, noise=0.3),
        ("an engine idles", "a car engine hums", "an engine runs idling"),
        ("an engine idling", "a car engine running"),
        ("parked", "driving"),
    ),
    (
        "Vehicle horn, car horn, honking",
        "taxi",
        "Vehicle",
        "car_horn",
        Harmonic(300, 25, 0.95, pulse_rate=0.6, duty=0.75, chord=(0.0, 4.0)),
        ("a car horn honks", "a car horn beeps twice", "a vehicle honks its horn"),
        ("a car horn honking", "horns honking"),
        ("parked", "waiting"),
    ),
    (
        "Siren",
        "ambulance",
        "Vehicle",
        "siren",
        Harmonic(750, 4, 0.5, vibrato_rate=0.35, vibrato_depth=6),
        ("a siren wails", "an emergency siren blares", "an ambulance siren wails"),
        ("a siren wailing", "sirens blaring"),
        ("speeding", "parked"),
    ),
    (
        "Train",
        "train",
        "Vehicle",
        "train",
        Noise(300, 1.5, am_rate=2.4, am_depth=0.6, crackle_rate=4.8, crackle_freq=900),
        ("a train rumbles past", "a train clacks along the tracks"),
        ("a train passing", "a train rumbling"),
        ("passing", "waiting"),
    ),
    (
        "Helicopter",
        "helicopter",
        "Vehicle",
        "helicopter",
        Clicks(17, 80, 35, jitter=0.02, noise=0.2),
        ("a helicopter flies overhead", "helicopter blades thump"),
        ("a helicopter flying", "rotor blades thumping"),
        ("flying", "hovering"),
    ),
    (
        "Fixed-wing aircraft, airplane",
        "airplane",
        "Vehicle",
        "airplane",
        Noise(1200, 1.0, am_rate=0.1, am_depth=0.2, tone=3000),
        ("an airplane flies over", "a jet engine roars and whines"),
        ("an airplane flying", "a jet roaring"),
        ("flying", "taking off"),
    ),
    # Tools and urban sounds
    (
        "Chainsaw",
        "chainsaw",
        "Tools",
        "chainsaw",
        Harmonic(110, 40, 0.94, vibrato_rate=2.5, vibrato_depth=1.5, noise=0.4),
        ("a chainsaw revs", "a chainsaw cuts through wood"),
        ("a chainsaw revving", "a chainsaw cutting"),
        ("lying", "resting"),
    ),
    (
        "Jackhammer",
        "jackhammer",
        "Tools",
        "jackhammer",
        Clicks(14, 1100, 18, noise=0.6),
        ("a jackhammer pounds", "a jackhammer rattles loudly"),
        ("a jackhammer pounding", "a jackhammer drilling"),
        ("standing", "propped up"),
    ),
    (
        "Drill",
        "drill",
        "Tools",
        "drilling",
        Harmonic(620, 8, 0.75, glide=2, pulse_rate=0.5, duty=0.85, noise=0.25),
        ("a power drill whirs", "someone is drilling with a drill"),
        ("a drill drilling", "a power drill whirring"),
        ("lying", "hanging"),
    ),
    (
        "Hammer",
        "hammer",
        "Tools",
        "hammer",
        Clicks(1.3, 2600, 120, jitter=0.1, noise=0.2),
        ("a hammer strikes metal", "someone hammers a nail"),
        ("a hammer hammering", "metal clanging"),
        ("lying", "hanging"),
    ),
    (
        "Gunshot, gunfire",
        "pistol",
        "Tools",
        "gun_shot",
        Clicks(0.6, 250, 250, jitter=0.5, noise=0.95),
        ("a gun shot rings out", "gunshots fire"),
        ("guns firing", "a gun shot echoing"),
        ("lying", "resting"),
    ),
    (
        "Air conditioning",
        "air conditioner",
        "Tools",
        "air_conditioner",
        Noise(180, 1.0, tone=120),
        ("an air conditioner hums", "an air conditioner whirs steadily"),
        ("an air conditioner humming", "a fan whirring"),
        ("mounted", "hanging"),
    ),
    # Domestic sounds
    (
        "Telephone bell ringing",
        "telephone",
        "Domestic sounds, home sounds",
        "telephone",
        FM(1300, 18, 8, pulse_rate=0.5, duty=0.4),
        ("a telephone rings", "a phone rings repeatedly"),
        ("a telephone ringing", "a phone ringing"),
        ("sitting", "resting"),
    ),
    (
        "Alarm clock",
        "alarm clock",
        "Domestic sounds, home sounds",
        "clock_alarm",
        Harmonic(2000, 2, 0.3, pulse_rate=4, duty=0.5),
        ("an alarm clock beeps", "an alarm beeps rapidly"),
        ("an alarm clock beeping", "an alarm beeping"),
        ("sitting", "standing"),
    ),
    (
        "Tick-tock",
        "wall clock",
        "Domestic sounds, home sounds",
        "clock_tick",
        Clicks(2.0, 3200, 6, noise=0.3),
        ("a clock ticks", "a clock ticks steadily"),
        ("a clock ticking", "a clock tick-tocking"),
        ("hanging", "mounted"),
    ),
    (
        "Doorbell",
        "doorbell",
        "Domestic sounds, home sounds",
        "door_bell",
        Bell(660, (1.0, 2.0, 3.0), 0.9, 0.8, notes=(0.0, -4.0), cycle_notes=True),
        ("a doorbell rings", "a doorbell chimes ding dong"),
        ("a doorbell ringing", "a doorbell chiming"),
        ("mounted", "glowing"),
    ),
    (
        "Knock",
        "door",
        "Domestic sounds, home sounds",
        "door_wood_knock",
        Clicks(0.8, 350, 45, noise=0.4, group=3, group_gap=0.18),
        ("someone knocks on a wooden door", "a knock on a door"),
        ("knocking on a door", "someone knocking on wood"),
        ("closed", "standing"),
    ),
    (
        "Walk, footsteps",
        "boots",
        "Human sounds",
        "footsteps",
        Clicks(1.9, 800, 50, jitter=0.08, noise=0.8),
        ("footsteps walk by", "a person walks with footsteps"),
        ("footsteps walking", "someone walking"),
        ("standing", "lying"),
    ),
    (
        "Typing",
        "keyboard",
        "Domestic sounds, home sounds",
        "keyboard_typing",
        Clicks(9, 4200, 7, jitter=0.6, noise=0.5),
        ("someone types on a keyboard", "keyboard keys click"),
        ("keyboard typing", "someone typing on a keyboard"),
        ("lying", "sitting"),
    ),
    (
        "Vacuum cleaner",
        "vacuum cleaner",
        "Domestic sounds, home sounds",
        "vacuum_cleaner",
        Noise(2500, 0.8, tone=520),
        ("a vacuum cleaner runs", "a vacuum cleaner roars"),
        ("a vacuum cleaner running", "someone vacuuming"),
        ("standing", "parked"),
    ),
    (
        "Blender",
        "blender",
        "Domestic sounds, home sounds",
        "blender",
        Harmonic(230, 12, 0.8, vibrato_rate=9, vibrato_depth=0.7, noise=0.7, chord=(0.0, 7.0)),
        ("a blender whirs", "a blender grinds loudly"),
        ("a blender whirring", "a blender blending"),
        ("sitting", "standing"),
    ),
    # Human sounds
    (
        "Baby cry, infant cry",
        "baby",
        "Human sounds",
        "crying_baby",
        Harmonic(480, 9, 0.7, vibrato_rate=5, vibrato_depth=0.5, glide=-4, pulse_rate=0.7, duty=0.7, noise=0.15),
        ("a baby cries", "an infant cries and wails"),
        ("a baby crying", "a crying baby wailing"),
        ("lying", "sitting"),
    ),
    (
        "Sneeze",
        "boy",
        "Human sounds",
        "sneezing",
        Noise(3800, 2.0, burst_rate=0.4, burst_duty=0.15),
        ("a person sneezes", "someone sneezes loudly"),
        ("a person sneezing", "someone sneezing"),
        ("standing", "sitting"),
    ),
    (
        "Laughter",
        "girl",
        "Human sounds",
        "laughing",
        Harmonic(260, 10, 0.75, glide=-2, pulse_rate=5, duty=0.5, noise=0.45),
        ("a woman laughs", "people laugh loudly"),
        ("people laughing", "a woman laughing"),
        ("standing", "sitting"),
    ),
    (
        "Applause",
        "audience",
        "Human sounds",
        "clapping",
        Clicks(45, 2500, 4, jitter=1.0, noise=0.9),
        ("a crowd applauds", "people clap their hands"),
        ("people clapping", "a crowd applauding"),
        ("seated", "standing"),
    ),
    (
        "Children playing",
        "children",
        "Human sounds",
        "children_playing",
        Harmonic(380, 8, 0.65, vibrato_rate=2, vibrato_depth=3, pulse_rate=2.5, duty=0.6, noise=0.3),
        ("children play and shout", "kids shout while playing"),
        ("children playing", "kids shouting"),
        ("playing", "running"),
    ),
    (
        "Whistling",
        "referee",
        "Human sounds",
        "whistling",
        Harmonic(1700, 1, 0.3, vibrato_rate=5, vibrato_depth=0.5, glide=3, pulse_rate=0.8, duty=0.8),
        ("someone whistles a tune", "a man whistles"),
        ("someone whistling", "a man whistling"),
        ("standing", "running"),
    ),
    # Music
    (
        "Church bell",
        "church bell",
        "Music",
        "church_bells",
        Bell(330, (0.5, 1.0, 1.2, 1.5, 2.0, 2.6, 3.2), 3.0, 0.6),
        ("a church bell rings", "church bells toll", "a bell chimes slowly"),
        ("church bells ringing", "a church bell tolling"),
        ("hanging", "swinging"),
    ),
    (
        "Piano",
        "piano",
        "Music",
        "piano",
        Bell(262, (1.0, 2.0, 3.0, 4.0, 5.0, 6.0), 1.0, 2.5, brightness=0.55, notes=(0, 2, 4, 5, 7, 9, 11, 12)),
        ("a piano plays a melody", "someone plays the piano"),
        ("a piano playing", "piano music playing"),
        ("standing", "open"),
    ),
    (
        "Guitar",
        "guitar",
        "Music",
        "guitar",
        Bell(196, (1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0), 0.6, 3.5, brightness=0.75, notes=(0, 3, 5, 7, 10)),
        ("a guitar plays street music", "someone strums a guitar"),
        ("a guitar strumming", "street music playing"),
        ("leaning", "lying"),
    ),
    (
        "Violin, fiddle",
        "violin",
        "Music",
        "violin",
        Harmonic(
            880,
            14,
            0.78,
            vibrato_rate=6,
            vibrato_depth=0.35,
            pulse_rate=1.2,
            duty=0.9,
            noise=0.05,
            notes=(0, 2, 3, 5, 7),
        ),
        ("a violin plays", "a fiddle plays a slow tune"),
        ("a violin playing", "a fiddle playing"),
        ("lying", "resting"),
    ),
    (
        "Flute",
        "flute",
        "Music",
        "flute",
        Harmonic(
            1320, 3, 0.3, vibrato_rate=5, vibrato_depth=0.2, pulse_rate=1.5, duty=0.9, noise=0.2, notes=(0, 2, 4, 7, 9)
        ),
        ("a flute plays a melody", "someone plays the flute"),
        ("a flute playing", "flute music playing"),
        ("lying", "resting"),
    ),
    (
        "Trumpet",
        "trumpet",
        "Music",
        "trumpet",
        Harmonic(350, 14, 0.88, pulse_rate=1.8, duty=0.85, notes=(0, 4, 7, 12)),
        ("a trumpet blares", "a trumpet plays a fanfare"),
        ("a trumpet playing", "a trumpet blaring"),
        ("lying", "resting"),
    ),
    (
        "Drum",
        "drum",
        "Music",
        "drum",
        Clicks(3, 180, 200, jitter=0.05, noise=0.3),
        ("a drum beats", "someone bangs a drum"),
        ("a drum beating", "drums pounding"),
        ("standing", "resting"),
    ),
]


def _build_catalogue() -> tuple[Source, ...]:
    out = []
    for i, (name, noun, parent, esc, recipe, clauses, gerunds, poses) in enumerate(_TABLE):
        # Sources i and i + 24 share a shape; the texture index is shifted by one for the second 24, so
        # every shape x texture pair is unique.
        shape = SHAPES[i % len(SHAPES)]
        texture = TEXTURES[(i + i // len(TEXTURES)) % len(TEXTURES)]
        colour = _COLOUR_NAMES[i]
        out.append(
            Source(
                name=name,
                mid=f"/m/0vip{i + 1:02d}",
                recipe=recipe,
                shape=shape,
                texture=texture,
                colour=colour,
                noun=noun,
                parent=parent,
                esc50=esc,
                clauses=clauses,
                gerunds=gerunds,
                poses=poses,
            )
        )
    return tuple(out)


SOURCES: tuple[Source, ...] = _build_catalogue()
SOURCE_BY_NAME: dict[str, Source] = {s.name: s for s in SOURCES}
PARENTS: tuple[str, ...] = tuple(dict.fromkeys(s.parent for s in SOURCES))


def source(name: str) -> Source:
    """The source called ``name`` (KeyError naming it otherwise)."""
    try:
        return SOURCE_BY_NAME[name]
    except KeyError:
        raise KeyError(f"no source named {name!r}") from None


def parent_mid(parent: str) -> str:
    """Machine id of an ontology parent category."""
    return f"/t/vip{PARENTS.index(parent) + 1:02d}"


# ----------------------------------------------------------------------------------------- scenes


@dataclass(frozen=True)
class Scene:
    """An acoustic scene: which sources occur, its background noise, and how its images look."""

    label: str  # TUT17 label ("city_center", "cafe/restaurant")
    sources: tuple[tuple[str, float], ...]  # (source name, relative weight)
    noise_colour: str  # background noise spectrum: "white", "pink" or "brown"
    noise_db: float  # background noise level relative to the event level (dB, negative)
    top: tuple[int, int, int]  # background gradient colour at the top of an image
    bottom: tuple[int, int, int]  # background gradient colour at the bottom
    phrases: tuple[str, ...]  # where-phrases for captions ("on a beach", "at the beach")


SCENES: tuple[Scene, ...] = (
    Scene(
        "beach",
        (("Waves, surf", 4), ("Wind", 2), ("Bird", 1), ("Children playing", 1)),
        "pink",
        -18,
        (170, 200, 220),
        (215, 200, 160),
        ("on a beach", "at the beach"),
    ),
    Scene(
        "city_center",
        (
            ("Engine", 3),
            ("Vehicle horn, car horn, honking", 2),
            ("Siren", 1),
            ("Walk, footsteps", 2),
            ("Jackhammer", 1),
        ),
        "pink",
        -15,
        (170, 170, 180),
        (110, 110, 115),
        ("in a city center", "on a busy city street"),
    ),
    Scene(
        "forest_path",
        (("Bird", 3), ("Wind", 2), ("Stream", 2), ("Cricket", 1), ("Walk, footsteps", 1)),
        "brown",
        -22,
        (150, 180, 150),
        (90, 110, 80),
        ("on a forest path", "in a forest"),
    ),
    Scene(
        "home",
        (
            ("Vacuum cleaner", 1),
            ("Tick-tock", 2),
            ("Knock", 1),
            ("Doorbell", 1),
            ("Telephone bell ringing", 1),
            ("Blender", 1),
            ("Cat", 1),
            ("Dog", 1),
        ),
        "brown",
        -30,
        (210, 200, 185),
        (170, 150, 130),
        ("at home", "in a living room"),
    ),
    Scene(
        "office",
        (("Typing", 4), ("Telephone bell ringing", 2), ("Walk, footsteps", 1), ("Air conditioning", 2)),
        "white",
        -28,
        (200, 205, 210),
        (160, 165, 170),
        ("in an office", "at an office desk"),
    ),
    Scene(
        "park",
        (("Dog", 2), ("Bird", 3), ("Children playing", 2), ("Walk, footsteps", 1), ("Whistling", 1)),
        "pink",
        -22,
        (175, 205, 175),
        (120, 160, 100),
        ("in a park", "in a city park"),
    ),
    Scene(
        "cafe/restaurant",
        (("Laughter", 2), ("Blender", 1), ("Walk, footsteps", 1), ("Applause", 1)),
        "pink",
        -18,
        (190, 170, 150),
        (140, 120, 100),
        ("in a cafe", "in a restaurant"),
    ),
    Scene(
        "residential_area",
        (("Dog", 2), ("Engine", 1), ("Bird", 2), ("Hammer", 1), ("Drill", 1), ("Children playing", 1)),
        "pink",
        -24,
        (190, 185, 175),
        (140, 140, 130),
        ("in a residential area", "on a residential street"),
    ),
    Scene(
        "train",
        (("Train", 4), ("Walk, footsteps", 1), ("Laughter", 1)),
        "brown",
        -12,
        (150, 150, 160),
        (100, 100, 110),
        ("inside a train", "on a train"),
    ),
)
SCENE_BY_LABEL: dict[str, Scene] = {s.label: s for s in SCENES}

# --------------------------------------------------------------------------- classification sets

ESC10: frozenset[str] = frozenset(
    {
        "dog",
        "rooster",
        "rain",
        "sea_waves",
        "crackling_fire",
        "crying_baby",
        "sneezing",
        "clock_tick",
        "helicopter",
        "chainsaw",
    }
)

# UrbanSound8K's ten classes in their real classID order, each voiced by one source.
US8K_CLASSES: tuple[tuple[str, str], ...] = (
    ("air_conditioner", "Air conditioning"),
    ("car_horn", "Vehicle horn, car horn, honking"),
    ("children_playing", "Children playing"),
    ("dog_bark", "Dog"),
    ("drilling", "Drill"),
    ("engine_idling", "Engine"),
    ("gun_shot", "Gunshot, gunfire"),
    ("jackhammer", "Jackhammer"),
    ("siren", "Siren"),
    ("street_music", "Guitar"),
)


def esc50_sources(n_classes: int) -> tuple[Source, ...]:
    """The sources used as ESC-50 classes: the ESC-10 ones first, then catalogue order, ``n_classes`` of them."""
    first = [s for s in SOURCES if s.esc50 in ESC10]
    rest = [s for s in SOURCES if s.esc50 not in ESC10]
    return tuple((first + rest)[: min(n_classes, 50, len(SOURCES))])


def _check_catalogue() -> None:
    assert len({s.colour for s in SOURCES}) == len(SOURCES), "every source must have its own colour"
    assert len({(s.shape, s.texture) for s in SOURCES}) == len(SOURCES), "shape x texture must be unique"
    assert len({s.esc50 for s in SOURCES}) == len(SOURCES), "ESC-50 class names must be unique"
    for scene in SCENES:
        for name, _ in scene.sources:
            assert name in SOURCE_BY_NAME, f"scene {scene.label}: unknown source {name}"
    for _, name in US8K_CLASSES:
        assert name in SOURCE_BY_NAME, f"US8K: unknown source {name}"


_check_catalogue()
