"""The n-gram LM builder against hand-computed Kneser-Ney, against KenLM reading our ARPA files
(and against lmplz where it is installed), normalization, discounts, errors and ARPA round trips."""

import gzip
import math
import random
import shutil
import subprocess
from collections import Counter

import pytest

from dslearn.lm import (
    FALLBACK_DISCOUNTS,
    NGramLM,
    build_arpa,
    build_lm,
    count_of_counts,
    kneser_ney_discounts,
)

TOL = 1e-4

# --- helpers -------------------------------------------------------------------------------------


def kenlm_log10(model, word, context):
    """KenLM's log10 p(word | context), feeding the context word by word as a decoder would."""
    kenlm = pytest.importorskip("kenlm")
    state, out = kenlm.State(), kenlm.State()
    context = list(context)
    if context[:1] == ["<s>"]:
        model.BeginSentenceWrite(state)
        context = context[1:]
    else:
        model.NullContextWrite(state)
    for w in context:
        model.BaseScore(state, w, out)
        state, out = out, state
    return model.BaseScore(state, word, out)


def random_corpus(seed=0, n=300):
    """Sentences of 1-8 words over 20 words with Zipf-like frequencies."""
    rng = random.Random(seed)
    words = [f"w{i:02d}" for i in range(20)]
    weights = [1 / (i + 1) for i in range(20)]
    return [" ".join(rng.choices(words, weights, k=rng.randint(1, 8))) for _ in range(n)]


# With 20 words and 300 sentences almost every word follows almost every other one, so all
# unigram continuation counts are large, t1 = 0 and D1 cannot be estimated: give unigram
# discounts explicitly (orders 2 and 3 are estimated).
UNIGRAM_DISCOUNTS = {1: (0.6, 1.1, 1.7)}


@pytest.fixture(scope="module")
def random_lm(tmp_path_factory):
    """(our model, its ARPA path) for an order-3 LM of the random corpus."""
    lm = build_lm(random_corpus(), order=3, discounts=UNIGRAM_DISCOUNTS)
    path = tmp_path_factory.mktemp("lm") / "random.arpa"
    lm.write_arpa(path)
    return lm, path


@pytest.fixture(scope="module")
def random_kenlm(random_lm):
    kenlm = pytest.importorskip("kenlm")
    return kenlm.Model(str(random_lm[1]))


# --- 1. hand-computed probabilities ----------------------------------------------------------

# Padded: <s> a b </s> (twice), <s> a c </s>, <s> b </s>
TINY = ["a b", "a b", "a c", "b"]
D_UNI, D_BI, D_TRI = (0.4, 0.8, 1.2), (0.5, 1.0, 1.5), (0.6, 1.2, 1.8)

# Unigrams (same for orders 2 and 3): continuation counts = distinct words seen before:
#   a: {<s>} 1, b: {a, <s>} 2, c: {a} 1, </s>: {b, c} 2, <s> and <unk>: 0; sum 6.
#   Uniform over {a, b, c, </s>, <unk>}: 1/5.  gamma() = (0.4*2 [a, c] + 0.8*2 [b, </s>]) / 6 = 0.4
P_A = (1 - 0.4) / 6 + 0.4 / 5  # 0.18
P_B = (2 - 0.8) / 6 + 0.4 / 5  # 0.28
P_C = (1 - 0.4) / 6 + 0.4 / 5  # 0.18
P_EOS = (2 - 0.8) / 6 + 0.4 / 5  # 0.28
P_UNK = 0.4 / 5  # 0.08: only the uniform share


def _check(lm, path, expected):
    """Our log10_prob, and the model read back from our ARPA file, match the hand-computed
    probabilities (no KenLM needed: ``_check_kenlm`` adds KenLM's reading where it is installed).

    ``expected``: (context, word, probability), the context a string, most recent word last.
    """
    read_back = NGramLM.from_arpa(path)
    for context, word, p in expected:
        words = context.split()
        assert lm.log10_prob(word, words) == pytest.approx(math.log10(p), abs=TOL), (context, word)
        assert read_back.log10_prob(word, words) == pytest.approx(math.log10(p), abs=TOL)


def _check_kenlm(path, expected):
    """KenLM, reading our ARPA file, gives the hand-computed probabilities."""
    kenlm = pytest.importorskip("kenlm")
    model = kenlm.Model(str(path))
    for context, word, p in expected:
        words = context.split()
        assert kenlm_log10(model, word, words) == pytest.approx(math.log10(p), abs=TOL)


def _bigram_by_hand(tmp_path):
    """(lm, its ARPA path, hand-computed probabilities) of the order-2 model of TINY."""
    lm = build_lm(TINY, order=2, discounts={1: D_UNI, 2: D_BI})
    path = tmp_path / "tiny2.arpa"
    lm.write_arpa(path)
    assert lm.fallback_orders == () and lm.discounts == {1: D_UNI, 2: D_BI}
    assert lm.vocab == {"a", "b", "c"} and lm.counts == {1: 6, 2: 6}
    assert P_A + P_B + P_C + P_EOS + P_UNK == pytest.approx(1.0)
    # Bigrams: highest order, raw counts.  a b: 2, a c: 1, <s> a: 3, <s> b: 1, b </s>: 3, c </s>: 1
    #   after a:   total 3, gamma(a) = (1.0*1 [a b] + 0.5*1 [a c]) / 3 = 0.5
    #   after <s>: total 4, gamma(<s>) = (1.5*1 [<s> a] + 0.5*1 [<s> b]) / 4 = 0.5
    #   after b:   total 3, gamma(b) = 1.5*1 [b </s>] / 3 = 0.5
    p_b_a = (2 - 1.0) / 3 + 0.5 * P_B  # 0.47333
    expected = [
        ("a", "b", p_b_a),
        ("a", "c", (1 - 0.5) / 3 + 0.5 * P_C),  # 0.25667
        ("a", "</s>", 0.5 * P_EOS),  # never seen after a: backoff
        ("<s>", "a", (3 - 1.5) / 4 + 0.5 * P_A),  # 0.465
        ("<s>", "b", (1 - 0.5) / 4 + 0.5 * P_B),  # 0.265
        ("<s>", "c", 0.5 * P_C),
        ("b", "</s>", (3 - 1.5) / 3 + 0.5 * P_EOS),  # 0.64
        ("b", "a", 0.5 * P_A),
        ("a", "zebra", 0.5 * P_UNK),  # unknown word: <unk>
        ("zebra", "b", P_B),  # unknown context: plain unigram
        ("", "b", P_B),
        ("", "<unk>", P_UNK),
        ("c a", "b", (2 - 1.0) / 3 + 0.5 * P_B),  # only the last word counts
    ]
    return lm, path, expected, 0.465 * p_b_a * 0.64


def test_bigram_probabilities_by_hand(tmp_path):
    lm, path, expected, p_sentence = _bigram_by_hand(tmp_path)
    _check(lm, path, expected)
    assert 10 ** lm.score_sentence("a b") == pytest.approx(p_sentence)


def test_kenlm_reads_the_bigram_model_as_computed_by_hand(tmp_path):
    _, path, expected, _ = _bigram_by_hand(tmp_path)
    _check_kenlm(path, expected)


def _trigram_by_hand(tmp_path):
    """(lm, its ARPA path, hand-computed probabilities) of the order-3 model of TINY."""
    lm = build_lm(TINY, order=3, discounts={1: D_UNI, 2: D_BI, 3: D_TRI})
    path = tmp_path / "tiny3.arpa"
    lm.write_arpa(path)
    # Bigrams are now a lower order: continuation counts, except after <s> (raw counts).
    #   a b: {<s>} 1, a c: {<s>} 1, b </s>: {a, <s>} 2, c </s>: {a} 1; <s> a: 3, <s> b: 1
    #   after a: total 2, gamma(a) = 0.5*2 / 2 = 0.5;  after b: total 2, gamma(b) = 1.0*1 / 2 = 0.5
    p_b_a = (1 - 0.5) / 2 + 0.5 * P_B  # 0.39
    p_c_a = (1 - 0.5) / 2 + 0.5 * P_C  # 0.34
    p_eos_b = (2 - 1.0) / 2 + 0.5 * P_EOS  # 0.64
    p_a_s = (3 - 1.5) / 4 + 0.5 * P_A  # 0.465, as in the bigram model
    # Trigrams, raw counts: <s> a b: 2, <s> a c: 1, a b </s>: 2, a c </s>: 1, <s> b </s>: 1
    #   after <s> a: total 3, gamma = (1.2*1 [<s> a b] + 0.6*1 [<s> a c]) / 3 = 0.6
    #   after a b:   total 2, gamma = 1.2*1 / 2 = 0.6
    p_b_sa = (2 - 1.2) / 3 + 0.6 * p_b_a  # 0.50067
    p_eos_ab = (2 - 1.2) / 2 + 0.6 * p_eos_b  # 0.784
    expected = [
        ("<s> a", "b", p_b_sa),
        ("<s> a", "c", (1 - 0.6) / 3 + 0.6 * p_c_a),  # 0.33733
        ("a b", "</s>", p_eos_ab),
        ("a b", "a", 0.6 * 0.5 * P_A),  # back off twice: gamma(a b) gamma(b) p(a)
        ("a", "b", p_b_a),
        ("<s>", "a", p_a_s),
        ("b a", "b", p_b_a),  # "b a" never seen: its backoff weight is 1
        ("c a b", "</s>", p_eos_ab),  # only the last two words count
    ]
    return lm, path, expected, p_a_s * p_b_sa * p_eos_ab


def test_trigram_probabilities_by_hand(tmp_path):
    lm, path, expected, p_sentence = _trigram_by_hand(tmp_path)
    _check(lm, path, expected)
    assert 10 ** lm.score_sentence("a b") == pytest.approx(p_sentence)


def test_kenlm_reads_the_trigram_model_as_computed_by_hand(tmp_path):
    _, path, expected, _ = _trigram_by_hand(tmp_path)
    _check_kenlm(path, expected)


# --- 2. every distribution sums to one -------------------------------------------------------


def _words_and_contexts(lm):
    """Every word the model can predict, and contexts seen, unseen and with unknown words."""
    words = sorted(lm.vocab | {"</s>", "<unk>"})
    assert len(words) == 22
    rng = random.Random(1)
    seen = sorted(g[:2] for g in lm.log10_probs if len(g) == 3)
    contexts = [(), ("<s>",), ("w00",), ("w19",), ("zebra",), ("</s>",), ("<s>", "w00")]
    contexts += [("<s>", "zebra"), ("zebra", "w03"), ("w00", "zebra"), ("w19", "w18")]
    contexts += rng.sample(seen, 20) + [tuple(rng.sample(words[:-2], 2)) for _ in range(20)]
    return words, contexts


def test_distributions_sum_to_one(random_lm):
    lm, _ = random_lm
    words, contexts = _words_and_contexts(lm)
    for context in contexts:
        ours = sum(10 ** lm.log10_prob(w, context) for w in words)
        assert ours == pytest.approx(1.0, abs=TOL), context


def test_kenlm_distributions_of_our_arpa_sum_to_one(random_lm, random_kenlm):
    words, contexts = _words_and_contexts(random_lm[0])
    for context in contexts:
        theirs = sum(10 ** kenlm_log10(random_kenlm, w, context) for w in words)
        assert theirs == pytest.approx(1.0, abs=TOL), context


# --- 3. agreement with KenLM -------------------------------------------------------------------


def test_scores_match_kenlm(random_lm, random_kenlm):
    lm, _ = random_lm
    rng = random.Random(2)
    words = sorted(lm.vocab) + ["</s>", "<unk>", "zebra"]
    for _ in range(300):
        context = rng.choices(words[:-3] + ["zebra"], k=rng.randint(0, 4))
        if rng.random() < 0.5:
            context = ["<s>", *context]
        word = rng.choice(words)
        assert lm.log10_prob(word, context) == pytest.approx(
            kenlm_log10(random_kenlm, word, context), abs=TOL
        ), (context, word)
    sentences = random_corpus(seed=3, n=50) + ["w00 zebra w01", "zebra", "w05 w05 w05 w05 w05"]
    for s in sentences:
        for bos, eos in ((True, True), (False, True), (True, False), (False, False)):
            expected = random_kenlm.score(s, bos=bos, eos=eos)
            assert lm.score_sentence(s, bos=bos, eos=eos) == pytest.approx(expected, abs=TOL)


@pytest.mark.skipif(shutil.which("lmplz") is None, reason="KenLM's lmplz is not installed")
def test_same_model_as_lmplz(tmp_path):
    text = tmp_path / "corpus.txt"
    text.write_text("\n".join(random_corpus()) + "\n")
    with pytest.warns(UserWarning, match="1-grams"):  # as lmplz falls back for unigrams
        ours = build_arpa(text, tmp_path / "ours.arpa", order=3, progress=False)
    arpa = tmp_path / "lmplz.arpa"
    with open(text) as src, open(arpa, "w") as dst:
        subprocess.run(
            ["lmplz", "-o", "3", "-S", "10%", "-T", str(tmp_path), "--discount_fallback"],
            stdin=src,
            stdout=dst,
            stderr=subprocess.DEVNULL,
            check=True,
        )
    theirs = NGramLM.from_arpa(arpa)
    assert ours.log10_probs.keys() == theirs.log10_probs.keys()
    for gram, p in ours.log10_probs.items():
        assert p == pytest.approx(theirs.log10_probs[gram], abs=TOL), gram
        backoff = ours.log10_backoffs.get(gram, 0.0)
        assert backoff == pytest.approx(theirs.log10_backoffs.get(gram, 0.0), abs=TOL), gram


# --- 4. discounts ------------------------------------------------------------------------------


def test_discounts_from_count_of_counts():
    assert count_of_counts([1, 1, 2, 3, 4, 4, 5, 7, 0]) == (2, 1, 1, 2)
    # t = (100, 40, 20, 10): Y = 100 / (100 + 2*40) = 5/9
    #   D1 = 1 - 2 Y 40/100 = 5/9,  D2 = 2 - 3 Y 20/40 = 7/6,  D3+ = 3 - 4 Y 10/20 = 17/9
    assert kneser_ney_discounts((100, 40, 20, 10)) == pytest.approx((5 / 9, 7 / 6, 17 / 9))
    with pytest.raises(ValueError, match="zero"):
        kneser_ney_discounts((10, 0, 3, 1))
    with pytest.raises(ValueError, match="D3"):  # Y = 1/2: D3+ = 3 - 4 Y 100/4 = -47
        kneser_ney_discounts((10, 5, 4, 100))


def test_highest_order_discounts_use_raw_counts(random_lm):
    lm, _ = random_lm
    trigrams = Counter()
    for s in random_corpus():
        tokens = ["<s>", *s.split(), "</s>"]
        trigrams.update(zip(tokens, tokens[1:], tokens[2:]))
    t = count_of_counts(trigrams.values())
    assert lm.discounts[3] == pytest.approx(kneser_ney_discounts(t))
    assert lm.discounts[1] == UNIGRAM_DISCOUNTS[1]


def test_fallback_discounts_warn_and_are_recorded():
    with pytest.warns(UserWarning) as record:
        lm = build_lm(["the cat sat", "the dog sat", "a cat ran"], order=2)
    assert [str(w.message).split(" (")[0] for w in record] == [
        "cannot estimate Kneser-Ney discounts for 1-grams",
        "cannot estimate Kneser-Ney discounts for 2-grams",
    ]
    assert lm.fallback_orders == (1, 2)
    assert lm.discounts == {1: FALLBACK_DISCOUNTS, 2: FALLBACK_DISCOUNTS}


# --- 5. errors ---------------------------------------------------------------------------------


@pytest.mark.parametrize("order", [1, 6])
def test_order_out_of_range(order, tmp_path):
    with pytest.raises(ValueError, match=f"got {order}"):
        build_lm(TINY, order=order)
    with pytest.raises(ValueError, match=f"got {order}"):
        build_arpa(tmp_path / "any.txt", tmp_path / "lm.arpa", order=order)


def test_bad_inputs_name_the_file(tmp_path):
    missing = tmp_path / "missing.txt"
    with pytest.raises(FileNotFoundError, match="missing.txt"):
        build_arpa(missing, tmp_path / "lm.arpa")
    empty = tmp_path / "empty.txt"
    empty.write_text("\n  \n")
    with pytest.raises(ValueError, match="empty.txt.*empty"):
        build_arpa(empty, tmp_path / "lm.arpa", progress=False)
    with pytest.raises(ValueError, match="<s>"):
        build_lm(["a <s> b"], discounts={1: D_UNI, 2: D_BI, 3: D_TRI})
    with pytest.raises(ValueError, match="D2"):
        build_lm(TINY, order=2, discounts={2: (0.5, 2.5, 1.5)})
    with pytest.raises(FileNotFoundError, match="nothing.arpa"):
        NGramLM.from_arpa(tmp_path / "nothing.arpa")


def test_malformed_arpa_names_file_and_line(tmp_path):
    good = tmp_path / "good.arpa"
    build_lm(TINY, order=2, discounts={1: D_UNI, 2: D_BI}).write_arpa(good)
    lines = good.read_text().splitlines()
    i = lines.index("\\2-grams:") + 2  # the second bigram
    bad = tmp_path / "bad.arpa"
    bad.write_text("\n".join(lines[:i] + ["-0.5\tx_y_z"] + lines[i + 1 :]))
    with pytest.raises(ValueError, match=rf"bad.arpa, line {i + 1}: .*2-gram"):
        NGramLM.from_arpa(bad)
    bad.write_text("\n".join(lines[:i] + ["-0.5\ta c\tnot-a-number"] + lines[i + 1 :]))
    with pytest.raises(ValueError, match=rf"bad.arpa, line {i + 1}: not a number"):
        NGramLM.from_arpa(bad)
    bad.write_text("\n".join(lines[:i] + lines[i + 1 :]))  # one bigram fewer than declared
    with pytest.raises(ValueError, match=r"bad.arpa, line \d+: the header declares 6 2-grams"):
        NGramLM.from_arpa(bad)
    bad.write_text("\n".join(lines[:-1]))  # no \end\
    with pytest.raises(ValueError, match="bad.arpa, line .*truncated"):
        NGramLM.from_arpa(bad)
    bad.write_text("just some text\n")
    with pytest.raises(ValueError, match="bad.arpa: no .data"):
        NGramLM.from_arpa(bad)


# --- 6. round trips ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["lm.arpa", "lm.arpa.gz"])
def test_arpa_round_trip(random_lm, tmp_path, name):
    lm, _ = random_lm
    path = tmp_path / name
    lm.write_arpa(path)
    if name.endswith(".gz"):
        assert gzip.open(path, "rt").readline() == "\\data\\\n"
    again = NGramLM.from_arpa(path)
    assert (again.order, again.vocab, again.counts) == (lm.order, lm.vocab, lm.counts)
    assert again.log10_probs.keys() == lm.log10_probs.keys()
    assert again.log10_backoffs.keys() == lm.log10_backoffs.keys()
    for gram, p in lm.log10_probs.items():
        assert again.log10_probs[gram] == pytest.approx(p, abs=1e-6)
    for s in random_corpus(seed=4, n=30):
        assert again.score_sentence(s) == pytest.approx(lm.score_sentence(s), abs=1e-5)


def test_build_arpa_writes_what_it_returns(tmp_path):
    text = tmp_path / "corpus.txt"
    text.write_text("\n".join(random_corpus(n=100)) + "\n\n")
    with pytest.warns(UserWarning, match="1-grams"):
        lm = build_arpa(text, tmp_path / "out" / "lm.arpa", order=2, progress=False)
    again = NGramLM.from_arpa(tmp_path / "out" / "lm.arpa")
    assert again.counts == lm.counts and lm.order == 2
    # written under a temporary name, then renamed: nothing else is left in the folder
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["lm.arpa"]
