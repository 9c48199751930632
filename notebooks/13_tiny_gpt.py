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
# # 13 · A tiny GPT
#
# A GPT predicts the next token from all the previous ones, like the LSTM of notebook
# 12, but without a recurrent state: every position looks directly at every earlier
# position through **causal self-attention**. We write that attention by hand from
# matrix products, a mask and a softmax; check it against
# `F.scaled_dot_product_attention`; then build a 2-layer character GPT from
# `nn.TransformerEncoderLayer`, train it on the fables of `autodiff.datasets`, and
# sample from it.

# %%
import math
import time

import matplotlib.pyplot as plt
import numpy as np

import autodiff
from autodiff import nn
import autodiff.nn.functional as F
from autodiff.datasets import CharTokenizer, fables

# %% [markdown]
# ## Causal self-attention by hand
#
# Each position $t$ makes a query $q_t$, a key $k_t$ and a value $v_t$ (three linear
# maps of its input). Its output is an average of the values, weighted by how well its
# query matches each key: $\text{softmax}_s(q_t \cdot k_s / \sqrt{d})$. A GPT must not
# see the future, so the scores of positions $s > t$ are set to $-\infty$ before the
# softmax (PyTorch code writes `scores.masked_fill(~causal, float("-inf"))`; here
# `autodiff.where` does the same), which gives them weight 0.

# %%
autodiff.manual_seed(0)
T, d = 6, 8
x = autodiff.randn(T, d)
to_q, to_k, to_v = nn.Linear(d, d), nn.Linear(d, d), nn.Linear(d, d)
q, k, v = to_q(x), to_k(x), to_v(x)

scores = q @ k.T / math.sqrt(d)                               # (T, T): query t against key s
causal = autodiff.tensor(np.tril(np.ones((T, T), dtype=bool)))  # s <= t
scores = autodiff.where(causal, scores, autodiff.tensor(float("-inf")))
weights = scores.softmax(-1)
by_hand = weights @ v

fused = F.scaled_dot_product_attention(q, k, v, is_causal=True)
print("by hand == F.scaled_dot_product_attention:", np.allclose(by_hand.detach().numpy(), fused.detach().numpy(), atol=1e-6))
print("each row of weights sums to 1:", np.allclose(weights.detach().numpy().sum(-1), 1))

fig, ax = plt.subplots(figsize=(3.5, 3))
ax.imshow(weights.detach().numpy(), cmap="viridis")
ax.set(xlabel="key position s", ylabel="query position t", title="Causal attention weights")
plt.show()

# %% [markdown]
# `F.scaled_dot_product_attention` is one node in the graph (its backward is written
# out by hand), while the version above is five; both give the same gradients:

# %%
x.requires_grad_()
(F.scaled_dot_product_attention(to_q(x), to_k(x), to_v(x), is_causal=True) ** 2).sum().backward()
fused_grad = x.grad.numpy().copy()
x.grad = None
q, k, v = to_q(x), to_k(x), to_v(x)
scores = autodiff.where(causal, q @ k.T / math.sqrt(d), autodiff.tensor(float("-inf")))
((scores.softmax(-1) @ v) ** 2).sum().backward()
print("same gradient:", np.allclose(x.grad.numpy(), fused_grad, atol=1e-5))

# %% [markdown]
# ## Multi-head attention and the Transformer block
#
# `nn.MultiheadAttention` runs several attentions ("heads") of smaller size side by
# side and mixes their outputs with a linear layer. `nn.TransformerEncoderLayer` adds
# the rest of a Transformer block: a residual connection around the attention, a
# 2-layer feed-forward network with its own residual connection, and LayerNorm (here
# before each part, `norm_first=True`, as GPT-2 does). With a causal mask it is a GPT
# block.

# %%
text = fables()
tokenizer = CharTokenizer(text)
data = np.array(tokenizer.encode(text))
VOCAB, CONTEXT, BATCH, D_MODEL = tokenizer.vocab_size, 32, 16, 64


class TinyGPT(nn.Module):
    def __init__(self, layers=2, heads=4):
        super().__init__()
        self.tokens = nn.Embedding(VOCAB, D_MODEL)
        self.positions = nn.Embedding(CONTEXT, D_MODEL)
        block = nn.TransformerEncoderLayer(D_MODEL, heads, dim_feedforward=4 * D_MODEL, dropout=0.0,
                                           batch_first=True, norm_first=True)
        self.blocks = nn.TransformerEncoder(block, layers)
        self.head = nn.Linear(D_MODEL, VOCAB)

    def forward(self, ids):                                   # (B, T) -> (B, T, VOCAB)
        steps = ids.shape[1]
        x = self.tokens(ids) + self.positions(autodiff.arange(steps))
        mask = nn.transformer.generate_square_subsequent_mask(steps)   # -inf above the diagonal
        return self.head(self.blocks(x, mask=mask))


autodiff.manual_seed(0)
model = TinyGPT()
print(model.blocks.layers[0])
print(f"{sum(p.numel() for p in model.parameters()):,} parameters")

# %% [markdown]
# ## Training on the fables
#
# Batches of 16 windows of 32 characters, each target the window shifted by one.
# AdamW, as for GPTs, with gradient clipping.

# %%
rng = np.random.default_rng(0)


def get_batch():
    starts = rng.integers(0, len(data) - CONTEXT - 1, BATCH)
    chunk = np.stack([data[s:s + CONTEXT + 1] for s in starts])          # (B, T + 1)
    return autodiff.tensor(chunk[:, :-1]), autodiff.tensor(chunk[:, 1:].reshape(-1))


optimizer = autodiff.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=0.01)
loss_fn = nn.CrossEntropyLoss()
losses = []
start = time.perf_counter()
for step in range(400):
    x, y = get_batch()
    optimizer.zero_grad()
    loss = loss_fn(model(x).reshape(-1, VOCAB), y)
    loss.backward()
    nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    optimizer.step()
    losses.append(loss.item())
print(f"400 steps in {time.perf_counter() - start:.1f} s; loss {np.mean(losses[:10]):.2f} -> {np.mean(losses[-20:]):.3f}")

fig, ax = plt.subplots(figsize=(6, 3.2))
ax.plot(np.convolve(losses, np.ones(10) / 10, mode="valid"))
ax.set(xlabel="step", ylabel="cross-entropy (10-step mean)", title="Tiny GPT on the fables")
plt.show()

# %% [markdown]
# ## Sampling
#
# Generation feeds the model the last `CONTEXT` characters, takes the distribution
# of the next one from the last position, draws from it, appends, and repeats.

# %%
def generate(prompt, length=300, temperature=0.8, seed=0):
    draw = np.random.default_rng(seed)
    ids = tokenizer.encode(prompt)
    model.eval()
    with autodiff.no_grad():
        for _ in range(length):
            window = autodiff.tensor([ids[-CONTEXT:]])
            logits = model(window)[0, -1] / temperature
            probs = logits.softmax(-1).numpy().astype(np.float64)
            ids.append(int(draw.choice(VOCAB, p=probs / probs.sum())))
    model.train()
    return tokenizer.decode(ids)


print(generate("Once upon a time"))

# %% [markdown]
# What the first block attends to: the attention weights of its heads (averaged) for
# one window, from `need_weights=True`.

# %%
ids = autodiff.tensor([tokenizer.encode("One morning the fox met a wise crow.")[:CONTEXT]])
with autodiff.no_grad():
    block = model.blocks.layers[0]
    h = block.norm1(model.tokens(ids) + model.positions(autodiff.arange(CONTEXT)))
    _, attention = block.self_attn(h, h, h, attn_mask=nn.transformer.generate_square_subsequent_mask(CONTEXT))
chars = tokenizer.decode(ids[0])
fig, ax = plt.subplots(figsize=(5.5, 5.5))
ax.imshow(attention[0].numpy(), cmap="viridis")
ax.set_xticks(range(CONTEXT), list(chars), fontsize=7)
ax.set_yticks(range(CONTEXT), list(chars), fontsize=7)
ax.set(title="Layer 1 attention (mean over heads)")
plt.show()
