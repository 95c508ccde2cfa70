"""Worked solutions to the exercises of chapter 09 (real speech: a speaker the model never heard)."""

DIGITS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")


def leave_one_speaker_out(speakers, held_out):
    """Split a corpus by speaker: train on everyone but ``held_out``, test on ``held_out`` alone.

    Args:
        speakers: list of N speaker names, ``speakers[i]`` is who said utterance ``i``.
        held_out: the speaker to keep out of training.

    Returns:
        ``(train, test)``: two lists of utterance indices in corpus order; together they hold
        every index exactly once, and no speaker appears in both.
    """
    train, test = [], []
    for i, speaker in enumerate(speakers):
        if speaker == held_out:  # whole-name comparison: "jo" is not "jon"
            test.append(i)
        else:
            train.append(i)
    return train, test


def digit_confusion(references, hypotheses):
    """Count which digit the model heard for each digit that was said.

    Args:
        references: N digit words ("zero" ... "nine"), what was said.
        hypotheses: N transcripts, what the model wrote.

    Returns:
        A 10 x 11 list of lists of counts: row = digit said, column = digit heard; column 10
        ("other") collects every hypothesis that is not exactly one digit word.
    """
    counts = [[0] * 11 for _ in range(10)]
    for ref, hyp in zip(references, hypotheses):
        words = hyp.split()
        heard = DIGITS.index(words[0]) if len(words) == 1 and words[0] in DIGITS else 10
        counts[DIGITS.index(ref.strip())][heard] += 1
    return counts
