"""The generated fables and the character tokenizer."""
import numpy as np
import pytest

import autodiff as ad
from autodiff import datasets


def test_fables_are_deterministic_and_sized():
    text = datasets.fables()
    assert text == datasets.fables() and text != datasets.fables(seed=1)
    assert 60_000 < len(text) < 200_000
    assert text.startswith("Once upon a time") and text.count("Moral:") == 400
    assert len(datasets.fables(3)) < 1000
    with pytest.raises(ValueError, match="num_stories must be at least 1"):
        datasets.fables(0)


def test_char_tokenizer_round_trips():
    text = datasets.fables(50)
    tok = datasets.CharTokenizer(text)
    assert tok.vocab_size == len(set(text)) == len(tok) and tok.chars == sorted(set(text))
    ids = tok.encode(text)
    assert tok.decode(ids) == text
    assert tok.decode(ad.tensor(ids[:20])) == text[:20] == tok.decode(np.array(ids[:20]))
    assert max(ids) == tok.vocab_size - 1 and min(ids) == 0
    with pytest.raises(KeyError, match="character '#' is not in the vocabulary"):
        tok.encode("#")
    with pytest.raises(ValueError):
        datasets.CharTokenizer("")
