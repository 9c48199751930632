# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 12 · Sequences: embeddings, recurrent networks and gradient clipping
#
# Text is a sequence of symbols. A network reads it one step at a time, keeping a
# **hidden state** that summarises what it has seen. This notebook builds the pieces
# a character-level language model needs, with PyTorch's API:
#
# 1. `nn.Embedding`: a learned vector for each symbol;
# 2. `nn.RNN` against `nn.LSTM` (and `nn.GRU`) on the same next-character task;
# 3. exploding gradients through time, and `nn.utils.clip_grad_norm_`.

# %%
import time

import matplotlib.pyplot as plt
import numpy as np

import autodiff
from autodiff import nn
from autodiff.datasets import CharTokenizer, fables

# %% [markdown]
# ## Embeddings
#
# An embedding is a table with one row per symbol. Looking a symbol up is the same as
# multiplying its one-hot vector by the table, but without building the one-hot
# vector: `embedding(ids)` is `weight[ids]`. The gradient flows only into the rows
# that were used (an index used twice receives the sum of both gradients).

# %%
autodiff.manual_seed(0)
embed = nn.Embedding(5, 3)
ids = autodiff.tensor([1, 3, 3])
vectors = embed(ids)
one_hot = nn.functional.one_hot(ids, 5).float()
print("lookup == one-hot @ table:", np.allclose(vectors.detach().numpy(), (one_hot @ embed.weight).detach().numpy()))
vectors.sum().backward()
print("gradient of the table (rows 1 and 3 only; row 3 was used twice):")
print(embed.weight.grad)

# %% [markdown]
# ## The text and a character tokenizer
#
# `autodiff.datasets.fables()` generates ~120 KB of short fables from a small grammar
# (the same text on every machine). `CharTokenizer` maps each character to an id.

# %%
text = fables()
tokenizer = CharTokenizer(text)
data = np.array(tokenizer.encode(text))
print(f"{len(text):,} characters, vocabulary of {tokenizer.vocab_size}")
print(text[:300])

# %% [markdown]
# The training task: given 32 characters, predict each next one. A batch is 32
# windows at random places, laid out **time first** `(T, B)` as `nn.RNN`/`nn.LSTM`
# expect by default (`batch_first=False`).

# %%
VOCAB, STEPS, BATCH = tokenizer.vocab_size, 32, 32
rng = np.random.default_rng(0)


def get_batch():
    starts = rng.integers(0, len(data) - STEPS - 1, BATCH)
    chunk = np.stack([data[s:s + STEPS + 1] for s in starts], axis=1)   # (T + 1, B)
    return autodiff.tensor(chunk[:-1]), autodiff.tensor(chunk[1:].reshape(-1))


class CharModel(nn.Module):
    """Embedding -> recurrent layer -> a linear layer to the vocabulary, at every step."""

    def __init__(self, kind, hidden=64):
        super().__init__()
        self.embed = nn.Embedding(VOCAB, 32)
        self.rnn = getattr(nn, kind)(32, hidden)
        self.head = nn.Linear(hidden, VOCAB)

    def forward(self, x):                     # (T, B) -> (T, B, VOCAB)
        output, _ = self.rnn(self.embed(x))
        return self.head(output)


print(CharModel("LSTM"))

# %% [markdown]
# ## An RNN against an LSTM
#
# The Elman RNN updates $h_t = \tanh(W_{ih} x_t + W_{hh} h_{t-1} + b)$. The LSTM
# keeps a second state, the cell $c_t$, updated **additively** through gates:
# $c_t = f_t \odot c_{t-1} + i_t \odot g_t$, $h_t = o_t \odot \tanh(c_t)$. Along the
# cell the gradient is multiplied by the forget gate $f_t$ instead of by $W_{hh}$ and
# a $\tanh'$ at every step, so it survives over more steps. The GRU is a lighter
# gated cell. Same data, same optimiser, 200 steps each:

# %%
def train(model, steps=200, lr=0.01, clip=1.0):
    optimizer = autodiff.optim.Adam(model.parameters(), lr=lr)
    loss_fn = nn.CrossEntropyLoss()
    losses = []
    for _ in range(steps):
        x, y = get_batch()
        optimizer.zero_grad()
        loss = loss_fn(model(x).reshape(-1, VOCAB), y)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), clip)
        optimizer.step()
        losses.append(loss.item())
    return np.array(losses)


curves, models = {}, {}
for kind in ["RNN", "LSTM", "GRU"]:
    autodiff.manual_seed(0)
    models[kind] = CharModel(kind)
    start = time.perf_counter()
    curves[kind] = train(models[kind])
    print(f"{kind:4s}: loss {curves[kind][:10].mean():.2f} -> {curves[kind][-20:].mean():.3f}   "
          f"({time.perf_counter() - start:.1f} s)")

fig, ax = plt.subplots(figsize=(6.5, 3.5))
for kind, losses in curves.items():
    ax.plot(np.convolve(losses, np.ones(10) / 10, mode="valid"), label=kind)
ax.set(xlabel="step", ylabel="cross-entropy (10-step mean)", title="Next-character prediction", ylim=(0, 3.5))
ax.legend()
plt.show()

# %% [markdown]
# Let the LSTM write: start from a prompt, feed it in, then repeatedly sample the
# next character from the softmax and feed it back (the hidden state carries the context).

# %%
def sample(model, prompt, length=200, temperature=0.7, seed=0):
    draw = np.random.default_rng(seed)
    with autodiff.no_grad():
        ids = autodiff.tensor(tokenizer.encode(prompt)).reshape(-1, 1)
        output, state = model.rnn(model.embed(ids))
        text = prompt
        for _ in range(length):
            probs = (model.head(output[-1, 0]) / temperature).softmax(-1).numpy().astype(np.float64)
            nxt = int(draw.choice(VOCAB, p=probs / probs.sum()))
            text += tokenizer.decode([nxt])
            output, state = model.rnn(model.embed(autodiff.tensor([[nxt]])), state)
    return text


print(sample(models["LSTM"], "Once upon a time"))

# %% [markdown]
# ## Exploding gradients, and clipping
#
# Backpropagation through time multiplies by $W_{hh}^T$ (and the activation's
# derivative) once per step. When that product's factors are larger than 1, the
# gradient grows geometrically with the number of steps: it **explodes**, and one
# update throws the weights far away. Below, a ReLU RNN whose recurrent weights start
# as the identity (an "IRNN"), trained by SGD with a large learning rate, with and
# without `clip_grad_norm_(parameters, 1.0)`, which rescales the whole gradient to norm
# 1 whenever it is larger (and returns the norm it found, before clipping).

# %%
import warnings


class ReluRNNModel(CharModel):
    def __init__(self):
        super().__init__("RNN")
        self.rnn = nn.RNN(32, 64, nonlinearity="relu")
        with autodiff.no_grad():
            self.rnn.weight_hh_l0.copy_(autodiff.eye(64))


def exploding_run(clip, steps=120):
    autodiff.manual_seed(1)
    model = ReluRNNModel()
    optimizer = autodiff.optim.SGD(model.parameters(), lr=0.3)
    loss_fn = nn.CrossEntropyLoss()
    norms, losses = [], []
    for _ in range(steps):
        x, y = get_batch()
        optimizer.zero_grad()
        loss = loss_fn(model(x).reshape(-1, VOCAB), y)
        loss.backward()
        norm = nn.utils.clip_grad_norm_(model.parameters(), 1.0 if clip else float("inf"))
        optimizer.step()
        norms.append(norm.item())
        losses.append(loss.item())
    return np.array(norms), np.array(losses)


fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 3.5))
with warnings.catch_warnings():
    warnings.simplefilter("ignore", RuntimeWarning)      # the unclipped run overflows to inf and NaN
    for clip in (False, True):
        norms, losses = exploding_run(clip)
        label = "clip_grad_norm_(1.0)" if clip else "no clipping"
        ax1.semilogy(norms, label=label)
        ax2.plot(losses, label=label)
        print(f"{label:22s} largest gradient norm {np.nanmax(norms):9.3g}   loss after 120 steps "
              f"{losses[-10:].mean():.3f}")
ax1.set(xlabel="step", ylabel="total gradient norm", title="Gradient norm (before clipping)")
ax2.set(xlabel="step", ylabel="cross-entropy", title="Training loss", ylim=(0, 6))
ax1.legend(), ax2.legend()
plt.show()

# %% [markdown]
# Without clipping, the gradient norm climbs by orders of magnitude within a few
# steps, one update sends the weights to huge values, and the loss becomes NaN.
# Clipping does not change the gradient's direction, only its length, so no step is
# larger than `lr x max_norm`: the same network trains. It is the standard guard when
# training recurrent networks (and Transformers). `clip_grad_value_` clamps each
# element instead, which changes the direction.
