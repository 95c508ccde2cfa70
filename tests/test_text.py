"""dslearn.text: the alphabet (blank = 0) and transcript normalization."""

import pytest

from dslearn.text import (
    Alphabet,
    TextError,
    normalize,
    number_to_words,
    ordinal_to_words,
    year_to_words,
)


def test_default_alphabet_layout():
    a = Alphabet()
    assert len(a) == 29
    assert a.tokens[0] == "<blank>" and a.blank_id == 0
    assert a.space_id == 1
    assert a.tokens[2] == "a" and a.tokens[27] == "z" and a.tokens[28] == "'"


def test_encode_decode_round_trip():
    a = Alphabet()
    text = "don't stop me now"
    ids = a.encode(text)
    assert 0 not in ids
    assert a.decode(ids) == text
    assert a.decode([0, *ids, 0]) == text  # blanks are skipped


def test_unknown_character_error_names_character_and_text():
    with pytest.raises(TextError, match=r"'é' \(U\+00E9\) at position 3 of 'café'"):
        Alphabet().encode("café")
    assert Alphabet().decode(Alphabet().encode("café", on_unknown="drop")) == "caf"


def test_decode_rejects_out_of_range_ids():
    with pytest.raises(ValueError, match="outside the alphabet"):
        Alphabet().decode([1, 99])


def test_custom_alphabet_for_another_language():
    german = Alphabet([" ", *"abcdefghijklmnopqrstuvwxyzäöüß"])
    assert german.decode(german.encode("grüße")) == "grüße"
    assert normalize("Grüße, Straße!", accents=True) == "grüße straße"
    assert Alphabet.from_dict(german.to_dict()) == german
    with pytest.raises(ValueError, match="repeated"):
        Alphabet(["a", "a"])


@pytest.mark.parametrize(
    ("n", "words"),
    [
        (0, "zero"),
        (13, "thirteen"),
        (40, "forty"),
        (99, "ninety nine"),
        (100, "one hundred"),
        (125, "one hundred twenty five"),
        (1000, "one thousand"),
        (1_000_001, "one million one"),
        (-7, "minus seven"),
    ],
)
def test_number_to_words(n, words):
    assert number_to_words(n) == words


def test_ordinals_and_years():
    assert ordinal_to_words(1) == "first"
    assert ordinal_to_words(22) == "twenty second"
    assert ordinal_to_words(30) == "thirtieth"
    assert ordinal_to_words(112) == "one hundred twelfth"
    assert year_to_words(1984) == "nineteen eighty four"
    assert year_to_words(2007) == "two thousand seven"
    assert year_to_words(2024) == "twenty twenty four"
    assert year_to_words(1905) == "nineteen oh five"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Set a timer for 25 minutes!", "set a timer for twenty five minutes"),
        ("It\u2019s the 21st of May, 1984.", "it's the twenty first of may nineteen eighty four"),
        ("\u201cQuoted\u201d and 'single' don't", "quoted and single don't"),
        ("rock-and-roll  \t spaces\n", "rock and roll spaces"),
        ("Café déjà vu", "cafe deja vu"),
        ("pay $3.50 & 10% tip", "pay three dollars fifty cents and ten percent tip"),
        ("1,250 people", "one thousand two hundred fifty people"),
        ("pi is 3.14", "pi is three point one four"),
        ("dial 0800", "dial zero eight zero zero"),
        ("", ""),
    ],
)
def test_normalize(raw, expected):
    assert normalize(raw) == expected


def test_normalized_text_always_fits_default_alphabet():
    a = Alphabet()
    raw = "Hello, World! It's 7:45 on 03/04 — 100% «sure» #1 (ok?) naïve résumé"
    text = normalize(raw)
    assert a.unknown_characters(text) == set()
    assert a.decode(a.encode(text)) == text
