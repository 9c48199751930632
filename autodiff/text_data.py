"""Text for character-level models (``autodiff.datasets.fables``) and a character tokenizer.

The text is generated, not shipped: short fables built from a small grammar, the same
for a given ``seed`` on every machine (numpy's PCG64 stream), so a notebook can train a
character model on it offline and reproducibly. Its structure (recurring names, set
phrases, punctuation, a moral after each story) gives a small model something to learn
in a minute: frequent words, then phrases, then the shape of a story.
"""
import numpy as np

from .tensor import Tensor

ANIMALS = ["fox", "crow", "hare", "tortoise", "lion", "mouse", "ant", "grasshopper", "wolf", "lamb",
           "dog", "goose", "frog", "owl", "bear", "cat", "goat", "heron"]
ADJECTIVES = ["proud", "clever", "hungry", "lazy", "wise", "small", "greedy", "kind", "foolish", "patient",
              "brave", "old", "quick", "gentle"]
PLACES = ["forest", "meadow", "river", "hill", "farm", "garden", "marsh", "village", "valley", "wood"]
THINGS = ["a piece of cheese", "a bunch of grapes", "a golden egg", "a bone", "some corn", "a drink of water",
          "a warm nest", "a basket of plums", "a shady tree", "a loaf of bread"]
VERBS = ["look for food", "sing a song", "rest in the sun", "gather seeds", "talk to friends",
         "drink from the stream", "watch the sky", "count the stars"]
MORALS = ["Slow and steady wins the race.", "Do not count your chickens before they hatch.",
          "Pride goes before a fall.", "A friend in need is a friend indeed.",
          "Look before you leap.", "Little friends may prove great friends.",
          "Work today and you will eat tomorrow.", "Greed often overreaches itself.",
          "Kindness is never wasted.", "Be content with what you have."]

TEMPLATES = [
    "Once upon a time there was {adj} {a} who lived in the {place}.",
    "Every day the {a} went to the {place2} to {verb}.",
    "One morning the {a} met {adj2_a} {b}.",
    '"Good day, {b}," said the {a}. "Where are you going?"',
    '"I am going to find {thing}," said the {b}.',
    "The {a} laughed and said, \"You will never find it, for you are too {adj2}.\"",
    "But the {b} did not stop, and walked on through the {place2}.",
    "At last the {b} found {thing}, and the {a} was ashamed.",
    "The {a} asked the {b} to share, and the {b} gave half of it away.",
    "When winter came, the {a} had nothing, but the {b} was warm and fed.",
]


def _with_article(word):
    return ("an " if word[0] in "aeiou" else "a ") + word


def fables(num_stories=400, seed=0):
    """``num_stories`` fables (~380 characters each: 400 make ~150 KB) as one string, each
    story ending with its moral and a blank line."""
    if num_stories < 1:
        raise ValueError(f"fables: num_stories must be at least 1, got {num_stories}")
    rng = np.random.default_rng(seed)
    pick = lambda words: words[int(rng.integers(len(words)))]   # noqa: E731
    stories = []
    for _ in range(num_stories):
        a, b = rng.choice(len(ANIMALS), size=2, replace=False)
        adj, adj2 = pick(ADJECTIVES), pick(ADJECTIVES)
        words = dict(a=ANIMALS[a], b=ANIMALS[b], adj=_with_article(adj), adj2=adj2, adj2_a=_with_article(adj2),
                     place=pick(PLACES), place2=pick(PLACES), thing=pick(THINGS), verb=pick(VERBS))
        count = int(rng.integers(3, 7))      # the opening and the meeting, then some of the rest, in order
        rest = rng.choice([1] + list(range(3, len(TEMPLATES))), size=count - 2, replace=False)
        lines = [TEMPLATES[i] for i in sorted([0, 2] + [int(i) for i in rest])]
        story = " ".join(line.format(**words) for line in lines)
        stories.append(f"{story}\nMoral: {pick(MORALS)}\n")
    return "\n".join(stories)


class CharTokenizer:
    """Characters to integer ids and back: the vocabulary is the sorted set of ``text``'s characters.

        tok = CharTokenizer(text)
        ids = tok.encode("the fox")        # [int, ...]
        tok.decode(ids) == "the fox"
    """

    def __init__(self, text):
        if not isinstance(text, str) or not text:
            raise ValueError("CharTokenizer: expected a non-empty string to build the vocabulary from")
        self.chars = sorted(set(text))
        self.stoi = {ch: i for i, ch in enumerate(self.chars)}
        self.itos = dict(enumerate(self.chars))

    @property
    def vocab_size(self):
        return len(self.chars)

    def __len__(self):
        return len(self.chars)

    def encode(self, text):
        """The id of each character; a character outside the vocabulary raises a KeyError naming it."""
        try:
            return [self.stoi[ch] for ch in text]
        except KeyError as exc:
            raise KeyError(f"CharTokenizer.encode: character {exc.args[0]!r} is not in the vocabulary "
                           f"of {len(self.chars)} characters") from None

    def decode(self, ids):
        """The string of a sequence of ids (a list, a numpy array or a 1-D integer tensor)."""
        if isinstance(ids, Tensor):
            ids = ids._data
        return "".join(self.itos[int(i)] for i in np.asarray(ids).reshape(-1))

    def __repr__(self):
        return f"CharTokenizer(vocab_size={self.vocab_size})"
