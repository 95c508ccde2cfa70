"""Word n-gram language models: build one with modified Kneser-Ney, write and read ARPA, score.

A decoder with a language model (LM) prefers transcripts that read like the text it was built
from: "recognize speech" over "wreck a nice beach". An n-gram LM gives the probability of a word
from the n-1 words before it, ``p(w | h)``; a sentence is scored as the product over its words,
padded as ``<s> w1 ... wk </s>`` so that starting and ending a sentence are scored too.

Counting alone (``c(h w) / c(h)``) gives probability 0 to every word never seen after ``h``,
and most histories are rare. **Modified Kneser-Ney** (Chen & Goodman 1998), as KenLM's ``lmplz``
builds it, fixes this in four steps:

1. **Adjusted counts.** The highest order uses raw counts ``c``. A lower order is only consulted
   when the longer history was not enough, so it should answer "how many different contexts does
   this word *continue*?", not "how often does it occur?": "francisco" is frequent but almost
   always after "san", so it deserves little probability after an unseen history. Lower-order
   n-grams therefore count the distinct words seen just before them (continuation counts).
   N-grams starting with ``<s>`` keep raw counts: nothing can precede ``<s>``.
2. **Discounts.** Each count ``a`` gives up a little mass ``D(a)``: ``D1`` for a=1, ``D2`` for
   a=2, ``D3+`` for a>=3. Each order estimates them from its count-of-counts ``t_k`` (how many
   n-grams have adjusted count k)::

       Y = t1 / (t1 + 2 t2)
       D1 = 1 - 2 Y t2/t1      D2 = 2 - 3 Y t3/t2      D3+ = 3 - 4 Y t4/t3

3. **Interpolation.** The freed mass, ``gamma(h)``, is shared according to the shorter history
   ``h'`` (``h`` without its first word)::

       u(w | h)  = max(a(h w) - D(a(h w)), 0) / sum_x a(h x)
       gamma(h)  = (D1 N1(h.) + D2 N2(h.) + D3+ N3+(h.)) / sum_x a(h x)
       p(w | h)  = u(w | h) + gamma(h) p(w | h')

   where ``Nk(h.)`` is the number of words seen after ``h`` with adjusted count k (3 or more for
   N3+). Unigrams interpolate with the uniform distribution over the vocabulary (every word seen,
   ``</s>`` and ``<unk>``), so an unknown word gets a small but non-zero probability.
4. **Backoff.** An ARPA file lists ``log10 p(w | h)`` for every n-gram seen, and for every context
   a backoff weight. For a word never seen after ``h`` the formula above reduces to
   ``gamma(h) p(w | h')``, so the backoff weight of ``h`` is just ``gamma(h)``.

``build_lm`` / ``build_arpa`` follow ``lmplz``'s choices, so KenLM (and any ARPA reader) reads
the files written here as it reads its own; ``NGramLM.from_arpa`` reads any ARPA file, including
ones from ``lmplz``, and ``log10_prob`` scores with the standard ARPA backoff rule.

>>> lm = build_lm(["the cat sat", "the dog sat", "a cat ran"], order=2)  # warns: tiny corpus
>>> round(lm.log10_prob("sat", ["the", "cat"]), 4)
-0.4798
>>> lm.write_arpa("tiny.arpa")
"""

from __future__ import annotations

import gzip
import math
import os
import re
import warnings
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from pathlib import Path

from tqdm.auto import tqdm

from dslearn.files import atomic_path

BOS, EOS, UNK = "<s>", "</s>", "<unk>"
SPECIAL = (BOS, EOS, UNK)
MIN_ORDER, MAX_ORDER = 2, 5
# What lmplz uses when the count-of-counts cannot give discounts (its --discount_fallback).
FALLBACK_DISCOUNTS = (0.5, 1.0, 1.5)
# ARPA's "never": <s> is only ever a context, never predicted.
LOG10_ZERO = -99.0
# kenlm's choice for <unk> when an ARPA file has none: effectively never.
LOG10_UNK_MISSING = -100.0

Discounts = tuple[float, float, float]
PathLike = str | os.PathLike
Ngram = tuple[str, ...]

_SECTION = re.compile(r"\\(\d+)-grams:")
_HEADER_COUNT = re.compile(r"ngram\s+(\d+)\s*=\s*(\d+)")


# --- discounts ---------------------------------------------------------------------------------


def count_of_counts(counts: Iterable[int]) -> tuple[int, int, int, int]:
    """``(t1, t2, t3, t4)``: how many of ``counts`` are exactly 1, 2, 3 and 4."""
    t = [0, 0, 0, 0, 0]
    for c in counts:
        if 1 <= c <= 4:
            t[c] += 1
    return t[1], t[2], t[3], t[4]


def kneser_ney_discounts(t: Sequence[int]) -> Discounts:
    """``(D1, D2, D3+)`` from the count-of-counts ``t = (t1, t2, t3, t4)`` (Chen & Goodman eq. 26).

    Raises ValueError when they cannot be estimated: a ``t_k`` is zero, or a discount falls
    outside ``(0, k]`` (small or artificial corpora), where discounting by ``D_k`` would take
    no mass or more mass than the count has.
    """
    t1, t2, t3, t4 = t
    if min(t1, t2, t3) == 0:
        raise ValueError(f"count-of-counts {tuple(t)} has a zero among t1, t2, t3")
    y = t1 / (t1 + 2 * t2)
    discounts = (1 - 2 * y * t2 / t1, 2 - 3 * y * t3 / t2, 3 - 4 * y * t4 / t3)
    for k, d in enumerate(discounts, start=1):
        if not 0 < d <= k:
            raise ValueError(f"count-of-counts {tuple(t)} give D{k} = {d:.4f}, outside (0, {k}]")
    return discounts


def _check_discounts(order: int, discounts: Sequence[float]) -> Discounts:
    if len(discounts) != 3:
        raise ValueError(f"discounts for order {order} must be (D1, D2, D3+), got {discounts!r}")
    for k, d in enumerate(discounts, start=1):
        if not 0 < d <= k:
            raise ValueError(f"order {order}: D{k} = {d} is outside (0, {k}]")
    d1, d2, d3 = (float(d) for d in discounts)
    return d1, d2, d3


# --- building ----------------------------------------------------------------------------------


def _check_order(order: int) -> None:
    if not isinstance(order, int) or not MIN_ORDER <= order <= MAX_ORDER:
        raise ValueError(f"order must be an integer from {MIN_ORDER} to {MAX_ORDER}, got {order!r}")


def _count_ngrams(sentences: Iterable[str], order: int) -> list[Counter[Ngram]]:
    """Raw counts of every n-gram, n = 1..order, of the padded sentences; index n is order n."""
    counts: list[Counter[Ngram]] = [Counter() for _ in range(order + 1)]
    n_sentences = 0
    for sentence in sentences:
        words = sentence.split()
        if not words:
            continue
        n_sentences += 1
        tokens = (BOS, *words, EOS)
        for n in range(1, order + 1):
            # zip of n shifted views yields the n-grams as tuples, much faster than slicing
            counts[n].update(zip(*(tokens[i:] for i in range(n))))
    if n_sentences == 0:
        raise ValueError("no sentences: every line is empty")
    unigrams = counts[1]
    # A literal <s> or </s> in the text would be confused with the padding, and <unk> with the
    # words the model does not know.
    for token, expected in ((BOS, n_sentences), (EOS, n_sentences), (UNK, 0)):
        if unigrams[(token,)] != expected:
            raise ValueError(f"the text contains the reserved token {token}")
    return counts


def _adjusted_counts(counts: list[Counter[Ngram]]) -> list[dict[Ngram, int]]:
    """Raw counts at the highest order, continuation counts below (raw ones after ``<s>``)."""
    order = len(counts) - 1
    adjusted: list[dict[Ngram, int]] = [{} for _ in range(order + 1)]
    adjusted[order] = dict(counts[order])
    for n in range(order - 1, 0, -1):
        continuation: Counter[Ngram] = Counter(gram[1:] for gram in counts[n + 1])
        adjusted[n] = {
            gram: (raw if gram[0] == BOS else continuation[gram]) for gram, raw in counts[n].items()
        }
    # <s> is never predicted and <unk> never seen: both take no unigram mass, as in lmplz.
    adjusted[1][(BOS,)] = 0
    adjusted[1][(UNK,)] = 0
    return adjusted


def _discount(a: int, d: Discounts) -> float:
    return 0.0 if a == 0 else d[min(a, 3) - 1]


def build_lm(
    sentences: Iterable[str],
    order: int = 3,
    discounts: dict[int, Discounts] | None = None,
) -> NGramLM:
    """An interpolated modified Kneser-Ney n-gram LM of ``sentences`` (one string each).

    Sentences are split on whitespace and used as given (normalize them first, the same way as
    the transcripts the LM will score); empty ones are skipped. ``discounts`` maps an order to
    its ``(D1, D2, D3+)``; orders not in it get discounts estimated from the data, or, where the
    data are too few for that, ``FALLBACK_DISCOUNTS`` with a warning (listed in the result's
    ``fallback_orders``).
    """
    _check_order(order)
    given: dict[int, Discounts] = {}
    for n, d in (discounts or {}).items():
        if not (isinstance(n, int) and 1 <= n <= order):
            raise ValueError(f"discounts given for order {n!r}, but the model has orders 1-{order}")
        given[n] = _check_discounts(n, d)

    counts = _count_ngrams(sentences, order)
    adjusted = _adjusted_counts(counts)

    used: dict[int, Discounts] = {}
    fallback_orders = []
    for n in range(1, order + 1):
        if n in given:
            used[n] = given[n]
            continue
        try:
            used[n] = kneser_ney_discounts(count_of_counts(adjusted[n].values()))
        except ValueError as e:
            warnings.warn(
                f"cannot estimate Kneser-Ney discounts for {n}-grams ({e}); the corpus is too "
                f"small or artificial, using fallback discounts {FALLBACK_DISCOUNTS}",
                stacklevel=2,
            )
            used[n] = FALLBACK_DISCOUNTS
            fallback_orders.append(n)

    vocab_size = sum(1 for (w,) in adjusted[1] if w != BOS)  # words, </s> and <unk>
    probs: dict[Ngram, float] = {}  # plain probabilities while interpolating, log10 at the end
    gammas: dict[Ngram, float] = {}  # the backoff weights of the contexts, by context
    for n in range(1, order + 1):
        d = used[n]
        # Per context h: the denominator sum_x a(h x) and the discounted mass gamma(h).
        total: dict[Ngram, int] = defaultdict(int)
        freed: dict[Ngram, float] = defaultdict(float)
        for gram, a in adjusted[n].items():
            total[gram[:-1]] += a
            freed[gram[:-1]] += _discount(a, d)
        gamma = {h: freed[h] / total[h] for h in total}
        for gram, a in adjusted[n].items():
            h = gram[:-1]
            lower = 1.0 / vocab_size if n == 1 else probs[gram[1:]]
            probs[gram] = max(a - _discount(a, d), 0.0) / total[h] + gamma[h] * lower
        if n > 1:  # gamma() of the unigrams went into their probabilities; it has no ARPA line
            gammas.update(gamma)

    log10_probs = {gram: math.log10(p) for gram, p in probs.items() if gram != (BOS,)}
    log10_probs[(BOS,)] = LOG10_ZERO
    log10_backoffs = {h: math.log10(g) for h, g in gammas.items()}
    return NGramLM(order, log10_probs, log10_backoffs, used, tuple(fallback_orders))


def build_arpa(
    text_path: PathLike, arpa_path: PathLike, order: int = 3, progress: bool = True
) -> NGramLM:
    """Build an LM of the text file ``text_path`` (one sentence per line) and write it as ARPA.

    ``arpa_path`` ending in ``.gz`` is written gzip-compressed. Shows a progress bar while
    counting when ``progress`` is true. Returns the model, so it can be used at once.
    """
    _check_order(order)
    text_path = Path(text_path)
    if not text_path.is_file():
        raise FileNotFoundError(f"{text_path}: text file not found")
    with open(text_path, encoding="utf-8") as f:
        n_lines = sum(1 for _ in f) if progress else None  # for the bar's total and time left
    with open(text_path, encoding="utf-8") as f:
        lines = tqdm(f, total=n_lines, desc="counting n-grams", unit=" lines", disable=not progress)
        try:
            lm = build_lm(lines, order)
        except ValueError as e:
            raise ValueError(f"{text_path}: {e}") from None
    lm.write_arpa(arpa_path)
    return lm


# --- the model ---------------------------------------------------------------------------------


class NGramLM:
    """An n-gram LM as an ARPA file holds it: log10 probabilities and backoff weights.

    ``log10_probs`` maps every n-gram (a tuple of 1 to ``order`` words) to ``log10 p(w | h)``;
    ``log10_backoffs`` maps contexts to ``log10`` of their backoff weight (missing means 0, a
    weight of 1). ``vocab`` is the set of words the model knows, without ``<s>``, ``</s>`` and
    ``<unk>``; the model's distributions are over ``vocab | {"</s>", "<unk>"}``. ``discounts``
    (order -> ``(D1, D2, D3+)``) and ``fallback_orders`` are known only for models built here.
    """

    def __init__(
        self,
        order: int,
        log10_probs: dict[Ngram, float],
        log10_backoffs: dict[Ngram, float],
        discounts: dict[int, Discounts] | None = None,
        fallback_orders: tuple[int, ...] = (),
    ) -> None:
        self.order = order
        self.log10_probs = log10_probs
        self.log10_backoffs = log10_backoffs
        self.discounts = dict(discounts or {})
        self.fallback_orders = fallback_orders
        self.vocab: set[str] = {g[0] for g in log10_probs if len(g) == 1} - set(SPECIAL)
        self.counts: dict[int, int] = dict.fromkeys(range(1, order + 1), 0)
        for gram in log10_probs:
            self.counts[len(gram)] += 1

    def __repr__(self) -> str:
        return f"NGramLM(order={self.order}, counts={self.counts})"

    # -- scoring ---------------------------------------------------------------------------------
    def _known(self, word: str) -> str:
        return word if (word,) in self.log10_probs else UNK

    def log10_prob(self, word: str, context: Sequence[str] = ()) -> float:
        """``log10 p(word | context)``; ``context`` is the preceding words, most recent last.

        Only the last ``order - 1`` words of the context matter; it may start with ``<s>``.
        Unknown words are scored as ``<unk>``. Standard ARPA backoff: use the longest history
        ``h`` with ``h word`` in the model, adding the backoff weights of the longer histories
        that were skipped.
        """
        word = self._known(word)
        keep = min(len(context), self.order - 1)
        history = [self._known(w) for w in context[len(context) - keep :]]
        backoff = 0.0
        for start in range(len(history) + 1):
            h = tuple(history[start:])
            log10_p = self.log10_probs.get((*h, word))
            if log10_p is not None:
                return backoff + log10_p
            backoff += self.log10_backoffs.get(h, 0.0)
        raise AssertionError("unreachable: every model has <unk>")

    def score_sentence(self, sentence: str, bos: bool = True, eos: bool = True) -> float:
        """Total ``log10`` probability of the whitespace-separated words of ``sentence``.

        ``bos``: the sentence starts a text (context ``<s>``); ``eos``: add ``p(</s> | ...)``.
        The same as ``kenlm.Model.score``.
        """
        words = sentence.split() + ([EOS] if eos else [])
        context = [BOS] if bos else []
        total = 0.0
        for word in words:
            total += self.log10_prob(word, context)
            context.append(word)
        return total

    # -- ARPA files ------------------------------------------------------------------------------
    def write_arpa(self, path: PathLike) -> None:
        """Write the model as an ARPA file (gzip-compressed if ``path`` ends in ``.gz``)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        by_order: list[list[Ngram]] = [[] for _ in range(self.order + 1)]
        for gram in self.log10_probs:
            by_order[len(gram)].append(gram)
        # Written under a temporary name and renamed, so an interrupted write never leaves a
        # truncated file that looks like a finished one.
        opener = gzip.open if path.suffix == ".gz" else open
        with atomic_path(path) as tmp, opener(tmp, "wt", encoding="utf-8") as f:
            f.write("\\data\\\n")
            for n in range(1, self.order + 1):
                f.write(f"ngram {n}={len(by_order[n])}\n")
            for n in range(1, self.order + 1):
                f.write(f"\n\\{n}-grams:\n")
                for gram in sorted(by_order[n]):
                    line = f"{self.log10_probs[gram]:.6f}\t{' '.join(gram)}"
                    backoff = self.log10_backoffs.get(gram)
                    if backoff is not None:
                        line += f"\t{backoff:.6f}"
                    f.write(line + "\n")
            f.write("\n\\end\\\n")

    @classmethod
    def from_arpa(cls, path: PathLike) -> NGramLM:
        """Read an ARPA file (gzip-compressed if its name ends in ``.gz``).

        Errors name the file and the line: a hand-edited or truncated ARPA file is a common
        source of confusing decoder failures.
        """
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"{path}: ARPA file not found")
        opener = gzip.open if path.suffix == ".gz" else open
        try:
            with opener(path, "rt", encoding="utf-8") as f:
                declared, log10_probs, log10_backoffs = _parse_arpa(f, path)
        except (UnicodeDecodeError, gzip.BadGzipFile, EOFError) as e:
            raise ValueError(f"{path}: cannot read: {e}") from None
        # Like kenlm: a model without <unk> gives unknown words (almost) no probability.
        log10_probs.setdefault((UNK,), LOG10_UNK_MISSING)
        return cls(max(declared), log10_probs, log10_backoffs)


def _parse_arpa(
    lines: Iterable[str], path: Path
) -> tuple[dict[int, int], dict[Ngram, float], dict[Ngram, float]]:
    """The header's n-gram counts, the log10 probabilities and the log10 backoffs of an ARPA file.

    The layout: free text, then ``\\data\\`` and one ``ngram N=count`` line per order, then
    per order a ``\\N-grams:`` line and one ``log10_prob<TAB>w1 ... wN[<TAB>log10_backoff]``
    line per n-gram, then ``\\end\\``.
    """

    def malformed(lineno: int, message: str) -> ValueError:
        return ValueError(f"{path}, line {lineno}: {message}")

    declared: dict[int, int] = {}
    log10_probs: dict[Ngram, float] = {}
    log10_backoffs: dict[Ngram, float] = {}
    section = None  # None: before \data\; 0: in the header; n: in the n-grams section
    found = 0  # n-grams read so far in the current section
    lineno = 0
    for lineno, raw in enumerate(lines, start=1):
        line = raw.strip()
        if not line:
            continue
        if section is None:  # anything before \data\ is free text
            section = 0 if line == "\\data\\" else None
            continue
        match = _SECTION.fullmatch(line)
        if match is not None or line == "\\end\\":
            # A new section or the end: the one before must have as many n-grams as declared.
            if section and found != declared[section]:
                raise malformed(
                    lineno,
                    f"the header declares {declared[section]} {section}-grams, "
                    f"but the section before this line has {found}",
                )
            if match is None:
                break
            section, found = int(match.group(1)), 0
            if section not in declared:
                raise malformed(lineno, f"section {line} is not declared in the header")
            continue
        if section == 0:
            if (match := _HEADER_COUNT.fullmatch(line)) is None:
                raise malformed(lineno, f"expected 'ngram N=count', got {line!r}")
            declared[int(match.group(1))] = int(match.group(2))
            continue
        fields = line.split()
        if len(fields) not in (section + 1, section + 2):
            raise malformed(
                lineno,
                f"a {section}-gram line needs a log10 probability, {section} word(s) and "
                f"an optional backoff, got {line!r}",
            )
        try:
            numbers = [float(x) for x in (fields[0], *fields[section + 1 :])]
        except ValueError:
            raise malformed(lineno, f"not a number in {line!r}") from None
        gram = tuple(fields[1 : section + 1])
        log10_probs[gram] = numbers[0]
        if len(numbers) == 2:
            log10_backoffs[gram] = numbers[1]
        found += 1
    else:
        if section is None:
            raise ValueError(f"{path}: no \\data\\ line; is this an ARPA file?")
        raise malformed(lineno, "the file ends before \\end\\ (truncated?)")
    if not declared or (BOS,) not in log10_probs:
        raise ValueError(f"{path}: no n-grams or no <s> unigram; is this an ARPA file?")
    return declared, log10_probs, log10_backoffs
