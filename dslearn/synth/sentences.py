"""The text the synthetic corpus speaks: procedurally generated English, and open text.

Two sources. ``generate_sentence`` fills templates (voice-assistant commands, numbers, dates,
times and money, free sentences) from the word lists in ``dslearn/assets``: a closed grammar
whose vocabulary is about 2,000 words. ``open_sentences`` reads English written by people from
packages installed offline: the example sentences of WordNet 3.0 (Debian's ``wordnet-base``,
about 35,000 sentences and 20,000 distinct words), so that a model learns to spell words the
grammar never uses. Every sentence comes out normalized (``dslearn.text.normalize``).
"""

from __future__ import annotations

import functools
import random
import re
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from dslearn.synth.engine import SynthError
from dslearn.text import normalize, number_to_words, ordinal_to_words, year_to_words

ASSETS = Path(__file__).resolve().parent.parent / "assets"  # word lists the generator draws from
WORDNET = Path("/usr/share/wordnet")  # Debian's wordnet-base
_QUOTED = re.compile(r'"([^"]+)"')


# --- text ----------------------------------------------------------------------------------------


@functools.cache
def word_list(name: str) -> tuple[str, ...]:
    """Entries of ``dslearn/assets/<name>.txt``: one per line (some lines carry two forms)."""
    path = ASSETS / f"{name}.txt"
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such word list in dslearn/assets")
    return tuple(
        line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()
    )


def vocabulary() -> list[str]:
    """Every distinct word in the asset word lists (lowercase a–z and apostrophe), sorted."""
    names = ("nouns", "adjectives", "verbs", "adverbs", "names", "places", "items")
    return sorted({w for name in names for entry in word_list(name) for w in entry.split()})


@functools.lru_cache(maxsize=1)
def _nouns() -> tuple[tuple[str, ...], dict[str, str]]:
    """Singular nouns, and their plurals (listed in nouns.txt when irregular, else by rule)."""
    singular, plural = [], {}
    for entry in word_list("nouns"):
        noun, *given = entry.split()
        singular.append(noun)
        if given:
            plural[noun] = given[0]
        elif re.search(r"(s|x|z|ch|sh)$", noun):
            plural[noun] = noun + "es"
        elif re.search(r"[^aeiou]y$", noun):
            plural[noun] = noun[:-1] + "ies"
        else:
            plural[noun] = noun + "s"
    return tuple(singular), plural


@functools.lru_cache(maxsize=1)
def _verbs() -> tuple[tuple[str, ...], dict[str, str]]:
    """Base forms and past tenses from verbs.txt ("base past" per line)."""
    past = dict(entry.split() for entry in word_list("verbs"))
    return tuple(past), past


_MONTHS = ("january february march april may june july august september october november "
           "december").split()  # fmt: skip
_WEEKDAYS = "monday tuesday wednesday thursday friday saturday sunday".split()
_DIGITS = "zero one two three four five six seven eight nine".split()


def _pick(options: Sequence[str]) -> Callable[[random.Random], str]:
    return lambda rng: rng.choice(options)


def _clock_time(rng: random.Random) -> str:
    hour, minute = rng.randint(1, 12), rng.choice([0, 0, 5, 10, 15, 20, 30, 30, 40, 45, 50])
    if rng.random() < 0.3:
        minute = rng.randint(0, 59)
    if rng.random() < 0.15:
        spoken = rng.choice(["noon", "midnight", f"half past {number_to_words(hour)}",
                             f"quarter past {number_to_words(hour)}",
                             f"quarter to {number_to_words(hour % 12 + 1)}"])  # fmt: skip
    elif minute == 0:
        spoken = number_to_words(hour) + rng.choice([" o'clock", ""])
    elif minute < 10:
        spoken = f"{number_to_words(hour)} oh {number_to_words(minute)}"
    else:
        spoken = f"{number_to_words(hour)} {number_to_words(minute)}"
    if rng.random() < 0.3 and spoken not in ("noon", "midnight"):
        spoken += rng.choice(
            [" in the morning", " in the afternoon", " in the evening", " tonight"]
        )
    return spoken


def _duration(rng: random.Random) -> str:
    kind = rng.random()
    if kind < 0.55:
        n = rng.choice([1, 2, 3, 5, 10, 15, 20, 25, 30, 45, rng.randint(2, 90)])
        return "one minute" if n == 1 else f"{number_to_words(n)} minutes"
    if kind < 0.7:
        return f"{number_to_words(rng.choice([10, 15, 20, 30, 45, 90]))} seconds"
    if kind < 0.85:
        return rng.choice(["an hour", "half an hour", "an hour and a half", "two hours"])
    hours, minutes = rng.randint(1, 3), rng.choice([5, 10, 15, 20, 30, 40, 45])
    unit = "hour" if hours == 1 else "hours"
    return f"{number_to_words(hours)} {unit} and {number_to_words(minutes)} minutes"


def _date(rng: random.Random) -> str:
    month, day = rng.choice(_MONTHS), ordinal_to_words(rng.randint(1, 28))
    spoken = rng.choice([f"{month} {day}", f"the {day} of {month}"])
    if rng.random() < 0.35:
        spoken += " " + year_to_words(rng.randint(1950, 2035))
    return spoken


def _day(rng: random.Random) -> str:
    fixed = ["today", "tomorrow", "tonight", "this weekend", "this afternoon"]
    weekday = rng.choice(_WEEKDAYS)
    return rng.choice([*fixed, f"on {weekday}", f"next {weekday}", f"on {_date(rng)}"])


def _money(rng: random.Random) -> str:
    whole = rng.choice([1, 2, 5, 10, 20, 50, 100, rng.randint(2, 999)])
    unit = rng.choice(["dollar", "euro", "pound"])
    spoken = f"{number_to_words(whole)} {unit}{'' if whole == 1 else 's'}"
    if rng.random() < 0.3:
        cents = rng.randint(1, 99)
        sub = "cent" if unit != "pound" else "penny"
        sub = sub if cents == 1 else ("pence" if unit == "pound" else "cents")
        spoken += f" and {number_to_words(cents)} {sub}"
    return spoken


def _digits(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(_DIGITS + ["oh"] if i else _DIGITS[1:]) for i in range(n))


def _number(rng: random.Random) -> str:
    magnitude = rng.choice([10, 20, 100, 1000, 10000, 1000000])
    return number_to_words(rng.randint(2, magnitude))


def _percent(rng: random.Random) -> str:
    return number_to_words(rng.choice([5, 10, 20, 25, 50, 75, rng.randint(1, 100)])) + " percent"


def _plural_noun(rng: random.Random) -> str:
    singular, plural = _nouns()
    return plural[rng.choice(singular)]


def _count_of_nouns(rng: random.Random) -> str:
    n = rng.choice([2, 3, 4, 5, 6, 10, 12, 20, rng.randint(2, 500)])
    return f"{number_to_words(n)} {_plural_noun(rng)}"


_ROOMS = ("kitchen", "living room", "bedroom", "bathroom", "hallway", "office", "garage", "garden")
_GENRES = ("jazz", "rock", "classical", "country", "pop", "reggae", "piano", "relaxing", "dance")
_DETERMINERS = ("the", "the", "the", "a", "my", "your", "his", "her", "our", "their", "this",
                "that")  # fmt: skip
_PREPOSITIONS = ("in", "on", "under", "behind", "near", "next to", "inside", "above", "beside")
_PRONOUNS = ("i", "you", "we", "they", "he", "she")
_WHEN = ("yesterday", "today", "last night", "this morning", "last week", "on monday",
         "after lunch", "before dinner", "an hour ago", "every day")  # fmt: skip

# Slot fillers for the templates below: "{name}" in a template is replaced by SLOTS["name"](rng).
SLOTS: dict[str, Callable[[random.Random], str]] = {
    "noun": lambda rng: rng.choice(_nouns()[0]),
    "nouns": _plural_noun,
    "adj": lambda rng: rng.choice(word_list("adjectives")),
    "verb": lambda rng: rng.choice(_verbs()[0]),
    "verbed": lambda rng: _verbs()[1][rng.choice(_verbs()[0])],
    "adverb": lambda rng: rng.choice(word_list("adverbs")),
    "name": lambda rng: rng.choice(word_list("names")),
    "place": lambda rng: rng.choice(word_list("places")),
    "item": lambda rng: rng.choice(word_list("items")),
    "det": _pick(_DETERMINERS),
    "prep": _pick(_PREPOSITIONS),
    "pronoun": _pick(_PRONOUNS),
    "when": _pick(_WHEN),
    "room": _pick(_ROOMS),
    "genre": _pick(_GENRES),
    "weekday": _pick(_WEEKDAYS),
    "time": _clock_time,
    "duration": _duration,
    "date": _date,
    "day": _day,
    "money": _money,
    "year": lambda rng: year_to_words(rng.randint(1900, 2035)),
    "small": lambda rng: number_to_words(rng.randint(2, 12)),
    "number": _number,
    "ordinal": lambda rng: ordinal_to_words(rng.randint(1, 40)),
    "percent": _percent,
    "degrees": lambda rng: f"{number_to_words(rng.randint(15, 30))} degrees",
    "phone": lambda rng: f"{_digits(rng, 3)} {_digits(rng, 3)} {_digits(rng, 4)}",
    "code": lambda rng: _digits(rng, rng.randint(4, 6)),
    "digit_string": lambda rng: _digits(rng, rng.randint(2, 6)),
    "count": _count_of_nouns,
}

COMMANDS = (
    "set a timer for {duration}",
    "set an alarm for {time}",
    "wake me up at {time} {day}",
    "remind me to {verb} the {noun} {day}",
    "remind me to call {name} in {duration}",
    "call {name}",
    "call {name} on speaker",
    "send a message to {name} saying i will be there at {time}",
    "text {name} that the {noun} is {adj}",
    "what's the weather in {place} {day}",
    "will it rain in {place} {day}",
    "what's the weather like {day}",
    "play some {genre} music",
    "play the next song",
    "turn on the {room} lights",
    "turn off the {room} lights",
    "dim the {room} lights to {percent}",
    "set the thermostat to {degrees}",
    "set the volume to {small}",
    "add {item} to my shopping list",
    "remove {item} from the shopping list",
    "do we still have {item}",
    "how long does it take to drive to {place}",
    "navigate to {place}",
    "book a table for {small} at {time} {day}",
    "what time is it in {place}",
    "schedule a meeting with {name} on {weekday} at {time}",
    "cancel my meeting with {name}",
    "how many days until {date}",
    "what's on my calendar {day}",
    "read my messages from {name}",
    "find a {adj} restaurant near {place}",
    "show me photos of {name} from {year}",
    "send {money} to {name}",
    "how much is {money} in dollars",
    "convert {number} miles to kilometers",
    "what is {number} plus {number}",
    "what is {small} times {small}",
    "start a workout for {duration}",
    "turn off the oven in {duration}",
    "lock the front door",
    "open the garage door",
    "is {name} home yet",
    "tell {name} dinner is ready",
    "how far is {place} from {place}",
)

NUMBER_SENTENCES = (
    "my birthday is on {date}",
    "the meeting is on {weekday} the {ordinal}",
    "the train leaves at {time}",
    "the package should arrive on {date}",
    "it costs {money}",
    "the total comes to {money}",
    "the code is {code}",
    "my phone number is {phone}",
    "there are {count} in the {noun}",
    "we counted {count} {when}",
    "she was born in {year}",
    "they moved to {place} in {year}",
    "the temperature will reach {degrees} {day}",
    "please turn to page {number}",
    "the population is about {number}",
    "the score was {small} to {small}",
    "room {number} is on the {ordinal} floor",
    "it is {time} in {place}",
    "about {percent} of the {nouns} are {adj}",
    "the battery is at {percent}",
    "the flight takes {duration}",
    "i paid {money} for the {noun}",
    "the bus comes every {duration}",
    "{number} people visited {place} in {year}",
    "the {ordinal} {noun} on the list is {adj}",
)

FREE_SENTENCES = (
    "the {adj} {noun} {verbed} {det} {noun} {adverb}",
    "{name} {verbed} the {adj} {noun} {prep} the {noun}",
    "i {verbed} {det} {noun} {when}",
    "{pronoun} will {verb} the {noun} {adverb}",
    "can you {verb} the {adj} {noun} for me",
    "do you want to {verb} the {noun} {adverb}",
    "my {noun} is very {adj}",
    "the {nouns} are {adj} and {adj}",
    "{name} and {name} {verbed} {det} {adj} {noun}",
    "we should {verb} the {noun} before the {noun}",
    "where did you {verb} the {noun}",
    "i think the {noun} was {adj} {when}",
    "please {verb} the {noun} and {verb} the {noun}",
    "there is a {adj} {noun} {prep} the {noun}",
    "{name} never {verbed} the {noun}",
    "it's a {adj} {noun}",
    "why did {name} {verb} my {noun}",
    "the {noun} {prep} the {noun} looks {adj}",
    "you can't {verb} a {noun} with a {noun}",
    "don't {verb} the {noun} {adverb}",
    "i'm {adj} because the {noun} is {adj}",
    "{pronoun} {verbed} {det} {adj} {noun} in {place}",
    "have you ever {verbed} a {noun}",
    "the {noun} and the {noun} were {adj}",
    "{name} said the {noun} was too {adj}",
    "let's {verb} the {noun} {adverb}",
    "{det} {noun} {verbed} {det} {noun}",
    "a {adj} {noun} {verbed} the {adj} {noun} {when}",
    "{name} wants to {verb} {det} {adj} {noun}",
    "if the {noun} is {adj} we will {verb} it",
)

# Strings of spoken digits, the classic first task of speech recognition (TIDIGITS, 1984): eleven
# words, so a small model learns to read them in minutes. Off by default (digits_weight=0).
DIGIT_SENTENCES = ("{digit_string}",)

SENTENCE_KINDS = {
    "command": COMMANDS,
    "number": NUMBER_SENTENCES,
    "free": FREE_SENTENCES,
    "digits": DIGIT_SENTENCES,
}

_SLOT = re.compile(r"\{(\w+)\}")
# "a" becomes "an" before a vowel sound; these spellings break the vowel-letter rule.
_AN_EXCEPTIONS = re.compile(r"^(uni|use|usu|eu|one|once)")
_AN_H_WORDS = {"hour", "hours", "honest", "honor", "heir"}


def _articles(words: list[str]) -> list[str]:
    out = list(words)
    for i in range(len(out) - 1):
        if out[i] in ("a", "an"):
            nxt = out[i + 1]
            vowel = (nxt[0] in "aeiou" and not _AN_EXCEPTIONS.match(nxt)) or nxt in _AN_H_WORDS
            out[i] = "an" if vowel else "a"
    return out


def fill_template(template: str, rng: random.Random) -> str:
    """Replace each ``{slot}`` of ``template`` with a random filler; returns normalized text."""

    def fill(match: re.Match) -> str:
        slot = match.group(1)
        if slot not in SLOTS:
            raise KeyError(f"template {template!r} uses unknown slot {{{slot}}}")
        return SLOTS[slot](rng)

    return normalize(" ".join(_articles(_SLOT.sub(fill, template).split())))


def generate_sentence(rng: random.Random, kinds: dict[str, float] | None = None) -> str:
    """One random sentence in normalized form; ``kinds`` weights "command", "number", "free"."""
    kinds = kinds or {"command": 0.4, "number": 0.2, "free": 0.4}
    kind = rng.choices(list(kinds), weights=list(kinds.values()))[0]
    return fill_template(rng.choice(SENTENCE_KINDS[kind]), rng)


def generate_sentences(
    n: int, seed: int = 0, kinds: dict[str, float] | None = None, exclude: Iterable[str] = ()
) -> list[str]:
    """``n`` distinct random sentences (normalized), none of them in ``exclude``."""
    rng = random.Random(seed)
    seen = set(exclude)
    out: list[str] = []
    attempts = 0
    while len(out) < n:
        attempts += 1
        if attempts > 100 * n + 1000:
            raise SynthError(f"could not find {n} distinct sentences (found {len(out)})")
        sentence = generate_sentence(rng, kinds)
        if sentence not in seen:
            seen.add(sentence)
            out.append(sentence)
    return out


@functools.cache
def open_sentences(
    root: str | Path = WORDNET, min_words: int = 3, max_words: int = 30, glosses: bool = False
) -> tuple[str, ...]:
    """WordNet's example sentences, normalized, deduplicated, in a fixed order.

    ``root`` holds WordNet's ``data.noun``, ``data.verb``, ``data.adj`` and ``data.adv``; each
    synset's gloss carries examples in double quotes ("she nibbled daintily at her cake").
    Sentences with characters outside a-z and apostrophe after normalization, or outside
    ``min_words``..``max_words``, are left out. Raises ``SynthError`` naming the package when
    WordNet is not installed. (WordNet 3.0 licence: free to use, copy and distribute, with its
    notice; see docs/voices.md.) With ``glosses``, the definitions themselves ("a spell of good
    weather") come too, for language models: about 4 times as much text.
    """
    root = Path(root)
    files = [root / f"data.{pos}" for pos in ("noun", "verb", "adj", "adv")]
    if not all(f.exists() for f in files):
        raise SynthError(
            f"{root}: WordNet's data files are missing (Debian: sudo apt-get install wordnet-base)"
        )
    seen: dict[str, None] = {}
    for path in files:
        for line in path.read_text(encoding="latin-1").splitlines():
            if line.startswith("  ") or "|" not in line:  # the licence header, or no gloss
                continue
            gloss = line.split("|", 1)[1]
            texts = _QUOTED.findall(gloss)
            if glosses:
                texts += [part for part in _QUOTED.sub("", gloss).split(";") if part.strip()]
            for example in texts:
                try:
                    text = normalize(example)
                except ValueError:
                    continue
                if re.fullmatch(r"[a-z' ]+", text) and min_words <= len(text.split()) <= max_words:
                    seen.setdefault(text, None)
    return tuple(seen)
