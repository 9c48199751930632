"""Layers, losses and initialisation with PyTorch's API (``from autodiff import nn``).

    model = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 1))
    loss = nn.BCEWithLogitsLoss()(model(x), y)
    loss.backward()

- ``module``: Module, the base class (registration, state_dict, train/eval, repr)
- ``parameter``: Parameter
- ``container``: Sequential, ModuleList, ModuleDict
- ``linear``, ``activation``, ``dropout``, ``batchnorm``: layers
- ``loss``: losses; ``functional`` (as F): the function form of layers and losses
- ``init``: weight initialisation
- ``sparse``, ``rnn``, ``transformer``: embeddings, recurrent layers, attention and Transformer layers
- ``utils``: gradient clipping, parameter vectors, padded and packed sequences
"""
from . import functional, init  # noqa: F401
from .activation import GELU, Hardtanh, LeakyReLU, LogSoftmax, ReLU, Sigmoid, Softmax, Softplus, Tanh  # noqa: F401
from .batchnorm import BatchNorm1d  # noqa: F401
from .container import ModuleDict, ModuleList, Sequential  # noqa: F401
from .dropout import Dropout  # noqa: F401
from .linear import Flatten, Identity, Linear  # noqa: F401
from .loss import BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, L1Loss, MSELoss, NLLLoss  # noqa: F401
from .module import Module  # noqa: F401
from .parameter import Parameter  # noqa: F401
from . import utils  # noqa: F401
from .rnn import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNBase, RNNCell, RNNCellBase  # noqa: F401
from .sparse import Embedding, EmbeddingBag  # noqa: F401
from .transformer import (MultiheadAttention, TransformerDecoder, TransformerDecoderLayer,  # noqa: F401
                          TransformerEncoder, TransformerEncoderLayer)
