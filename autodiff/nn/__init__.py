"""Layers, losses and initialisation with PyTorch's API (``from autodiff import nn``).

    model = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 1))
    loss = nn.BCEWithLogitsLoss()(model(x), y)
    loss.backward()

- ``module``: Module, the base class (registration, state_dict, train/eval, repr)
- ``parameter``: Parameter
- ``container``: Sequential, ModuleList, ModuleDict
- ``linear``, ``activation``, ``dropout``, ``batchnorm``: layers
- ``conv``, ``pooling``, ``normalization``: convolutional networks (conv, pooling, resizing, norms)
- ``loss``: losses; ``functional`` (as F): the function form of layers and losses
- ``init``: weight initialisation
- ``parallel``: DistributedDataParallel (several processes, see ``autodiff.distributed``)
- ``sparse``, ``rnn``, ``transformer``: embeddings, recurrent layers, attention and Transformer layers
- ``utils``: gradient clipping, parameter vectors, padded and packed sequences
"""
from . import functional, init  # noqa: F401
from . import parallel  # noqa: F401
from .activation import GELU, Hardtanh, LeakyReLU, LogSoftmax, ReLU, Sigmoid, Softmax, Softplus, Tanh  # noqa: F401
from .batchnorm import BatchNorm1d  # noqa: F401
from .container import ModuleDict, ModuleList, Sequential  # noqa: F401
from .dropout import Dropout  # noqa: F401
from .linear import Flatten, Identity, LazyLinear, Linear, Unflatten  # noqa: F401
from .loss import BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, L1Loss, MSELoss, NLLLoss  # noqa: F401
from .loss import (  # noqa: F401
    CosineEmbeddingLoss, GaussianNLLLoss, HingeEmbeddingLoss, HuberLoss, KLDivLoss, MarginRankingLoss,
    MultiLabelSoftMarginLoss, MultiMarginLoss, PoissonNLLLoss, SmoothL1Loss, SoftMarginLoss,
    TripletMarginLoss)
from .module import Module  # noqa: F401
from .parameter import Parameter, UninitializedParameter  # noqa: F401
from .conv import Conv1d, Conv2d, ConvTranspose1d, ConvTranspose2d, Fold, Unfold  # noqa: F401,E402
from .normalization import (BatchNorm2d, Dropout1d, Dropout2d, GroupNorm, InstanceNorm1d,  # noqa: F401,E402
                            InstanceNorm2d, LayerNorm)
from .pooling import (AdaptiveAvgPool1d, AdaptiveAvgPool2d, AdaptiveMaxPool1d, AdaptiveMaxPool2d,  # noqa: F401,E402
                      AvgPool1d, AvgPool2d, MaxPool1d, MaxPool2d, MaxUnpool1d, MaxUnpool2d, PixelShuffle,
                      PixelUnshuffle, Upsample, UpsamplingBilinear2d, UpsamplingNearest2d)
from . import utils  # noqa: F401
from .rnn import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNBase, RNNCell, RNNCellBase  # noqa: F401
from .sparse import Embedding, EmbeddingBag  # noqa: F401
from .transformer import (MultiheadAttention, TransformerDecoder, TransformerDecoderLayer,  # noqa: F401
                          TransformerEncoder, TransformerEncoderLayer)
