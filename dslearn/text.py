"""Text: the alphabet a CTC model writes in, and the normalization that maps transcripts onto it.

A CTC model outputs one distribution per frame over ``len(alphabet)`` classes. Index 0 is always the
*blank*, the "no new character here" symbol that makes CTC work; the others are characters.
Transcripts are normalized (lowercase, numbers spoken as words, punctuation removed) before they
are encoded, so the model never has to learn that "25" and "twenty five" sound the same.
"""

from __future__ import annotations

import re
import string
import unicodedata
from collections.abc import Iterable, Sequence

BLANK = "<blank>"  # printable name of class 0; never appears in text
DEFAULT_SYMBOLS = (" ", *string.ascii_lowercase, "'")  # 28 characters; with blank: 29 classes


class TextError(ValueError):
    """A transcript an alphabet cannot express. The message names the text and the character."""


class Alphabet:
    """Characters a model can output, with the CTC blank at index 0.

    >>> a = Alphabet()
    >>> len(a), a.encode("hi"), a.decode([9, 10])
    (29, [9, 10], 'hi')
    """

    def __init__(self, symbols: Sequence[str] = DEFAULT_SYMBOLS) -> None:
        symbols = list(symbols)
        if any(len(s) != 1 for s in symbols):
            raise ValueError(f"alphabet symbols must be single characters, got {symbols!r}")
        if len(set(symbols)) != len(symbols):
            raise ValueError(f"alphabet has repeated symbols: {symbols!r}")
        self.symbols: list[str] = symbols
        self.tokens: list[str] = [BLANK, *symbols]
        self.blank_id = 0
        self._index = {s: i for i, s in enumerate(self.tokens) if i != self.blank_id}

    def __len__(self) -> int:
        return len(self.tokens)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Alphabet) and self.symbols == other.symbols

    def __repr__(self) -> str:
        return f"Alphabet({''.join(self.symbols)!r})"

    def __contains__(self, char: str) -> bool:
        return char in self._index

    @property
    def space_id(self) -> int | None:
        """Index of the word separator, or None for alphabets without one."""
        return self._index.get(" ")

    def encode(self, text: str, on_unknown: str = "error") -> list[int]:
        """Map each character of ``text`` to its class index.

        ``text`` should already be normalized (see ``normalize``). A character outside the alphabet
        raises ``TextError`` naming it and the text; with ``on_unknown="drop"`` it is skipped.
        """
        if on_unknown not in ("error", "drop"):
            raise ValueError(f"on_unknown must be 'error' or 'drop', got {on_unknown!r}")
        ids = []
        for position, char in enumerate(text):
            index = self._index.get(char)
            if index is not None:
                ids.append(index)
            elif on_unknown == "error":
                raise TextError(
                    f"character {char!r} (U+{ord(char):04X}) at position {position} of {text!r} "
                    f"is not in the alphabet {''.join(self.symbols)!r}"
                )
        return ids

    def decode(self, ids: Iterable[int]) -> str:
        """Characters for class indices; blanks are skipped (no CTC collapsing of repeats)."""
        out = []
        for i in ids:
            i = int(i)
            if i == self.blank_id:
                continue
            if not 0 < i < len(self.tokens):
                raise ValueError(f"class index {i} is outside the alphabet (0..{len(self) - 1})")
            out.append(self.tokens[i])
        return "".join(out)

    def unknown_characters(self, text: str) -> set[str]:
        """Characters of ``text`` the alphabet cannot express."""
        return {c for c in text if c not in self._index}

    def to_dict(self) -> dict:
        """JSON-ready description, stored in checkpoints."""
        return {"symbols": "".join(self.symbols)}

    @classmethod
    def from_dict(cls, d: dict) -> Alphabet:
        return cls(list(d["symbols"]))


# --- numbers as words --------------------------------------------------------------------------

_ONES = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
    "fifteen sixteen seventeen eighteen nineteen"
).split()
_TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()
_SCALES = ((10**12, "trillion"), (10**9, "billion"), (10**6, "million"), (1000, "thousand"))
_ORDINAL_WORDS = {
    "one": "first",
    "two": "second",
    "three": "third",
    "five": "fifth",
    "eight": "eighth",
    "nine": "ninth",
    "twelve": "twelfth",
}


def number_to_words(n: int) -> str:
    """Cardinal number in words, the way it is read aloud: 125 -> "one hundred twenty five"."""
    if n < 0:
        return "minus " + number_to_words(-n)
    if n < 20:
        return _ONES[n]
    if n < 100:
        tens, ones = divmod(n, 10)
        return _TENS[tens] + ("" if ones == 0 else " " + _ONES[ones])
    if n < 1000:
        hundreds, rest = divmod(n, 100)
        return _ONES[hundreds] + " hundred" + ("" if rest == 0 else " " + number_to_words(rest))
    for scale, name in _SCALES:
        if n >= scale:
            high, rest = divmod(n, scale)
            words = number_to_words(high) + " " + name
            return words + ("" if rest == 0 else " " + number_to_words(rest))
    raise AssertionError("unreachable")


def ordinal_to_words(n: int) -> str:
    """Ordinal number in words: 21 -> "twenty first"."""
    words = number_to_words(n).split()
    last = words[-1]
    if last in _ORDINAL_WORDS:
        words[-1] = _ORDINAL_WORDS[last]
    elif last.endswith("y"):
        words[-1] = last[:-1] + "ieth"
    else:
        words[-1] = last + "th"
    return " ".join(words)


def year_to_words(n: int) -> str:
    """A year read the usual way: 1984 -> "nineteen eighty four", 2007 -> "two thousand seven"."""
    if 2000 <= n <= 2009 or n % 1000 == 0:
        return number_to_words(n)
    high, low = divmod(n, 100)
    if low == 0:
        return number_to_words(high) + " hundred"
    if low < 10:
        return number_to_words(high) + " oh " + number_to_words(low)
    return number_to_words(high) + " " + number_to_words(low)


def _digits_to_words(match: re.Match) -> str:
    token = match.group(0)
    ordinal = re.fullmatch(r"(\d+)(st|nd|rd|th)", token)
    if ordinal:
        return " " + ordinal_to_words(int(ordinal.group(1))) + " "
    if "." in token:
        whole, frac = token.split(".")
        return f" {number_to_words(int(whole))} point {' '.join(_ONES[int(d)] for d in frac)} "
    digits = token.replace(",", "")
    value = int(digits)
    if len(digits) == 4 and 1100 <= value <= 2099 and "," not in token:
        return " " + year_to_words(value) + " "
    if len(digits) > 1 and digits.startswith("0"):
        # Codes like "007" or "0800" are read digit by digit.
        return " " + " ".join(_ONES[int(d)] for d in digits) + " "
    return " " + number_to_words(value) + " "


# Curly quotes and look-alikes users paste from word processors: all become the ASCII apostrophe.
_QUOTES = str.maketrans(
    {
        "\u2019": "'",
        "\u2018": "'",
        "\u02bc": "'",
        "\u00b4": "'",
        "`": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u2013": "-",
        "\u2014": "-",
    }
)
_SYMBOL_WORDS = {"&": " and ", "%": " percent ", "+": " plus ", "@": " at ", "=": " equals "}
_CURRENCY = re.compile(r"([$£€])(\d+)(?:\.(\d\d))?\b")
_CURRENCY_NAMES = {"$": ("dollar", "cent"), "£": ("pound", "penny"), "€": ("euro", "cent")}
_NUMBER = re.compile(r"\d+(?:st|nd|rd|th)\b|\d+\.\d+|\d{1,3}(?:,\d{3})+|\d+")


def _currency_to_words(match: re.Match) -> str:
    unit, sub_unit = _CURRENCY_NAMES[match.group(1)]
    whole, cents = int(match.group(2)), int(match.group(3) or 0)
    words = f"{number_to_words(whole)} {unit}{'' if whole == 1 else 's'}"
    if cents:
        plural = "pence" if sub_unit == "penny" else "cents"
        words += f" {number_to_words(cents)} {sub_unit if cents == 1 else plural}"
    return f" {words} "


def strip_accents(text: str) -> str:
    """Remove diacritics: "café" -> "cafe" (only right for alphabets without accented letters)."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def normalize(text: str, *, accents: bool = False, keep: str = "'") -> str:
    """Normalize a transcript for the default English alphabet.

    Lowercases, turns curly quotes into ``'``, speaks digits as words ("25th" -> "twenty fifth",
    "1984" -> "nineteen eighty four", "3.5" -> "three point five", "$3.50" -> "three dollars
    fifty cents"), reads ``& % + @ =`` as words,
    replaces other punctuation by spaces, keeps apostrophes only inside words ("don't", not
    "'quoted'"), and collapses whitespace. ``accents=False`` strips diacritics ("café" -> "cafe");
    pass ``accents=True`` for alphabets that include accented letters. ``keep`` lists punctuation
    that survives (default: the apostrophe).
    """
    text = unicodedata.normalize("NFKC", text).translate(_QUOTES).lower()
    if not accents:
        text = strip_accents(text)
    text = _CURRENCY.sub(_currency_to_words, text)
    text = _NUMBER.sub(_digits_to_words, text)
    for symbol, words in _SYMBOL_WORDS.items():
        if symbol not in keep:
            text = text.replace(symbol, words)
    text = "".join(c if (c.isalnum() or c.isspace() or c in keep) else " " for c in text)
    if "'" in keep:
        # An apostrophe inside a word is spelling ("don't"); at a word's edge it is a quote mark.
        text = re.sub(r"(?<![^\W_])'|'(?![^\W_])", " ", text)
    return " ".join(text.split())
