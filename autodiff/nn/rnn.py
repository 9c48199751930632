"""Recurrent layers with PyTorch's API, weight layout and names: RNN, LSTM, GRU and their cells.

Each direction of each layer is one op (``autodiff.ops.recurrent.Recurrent``) over the
whole sequence. Parameters are named and shaped as PyTorch names and shapes them
(``weight_ih_l0``, ``weight_hh_l0``, ``bias_ih_l0``, ``bias_hh_l0``, ``weight_hr_l0`` for
LSTM projections, ``..._reverse`` for the second direction), with the gates stacked in
PyTorch's order (LSTM: i, f, g, o; GRU: r, z, n), so a PyTorch state_dict loads as it is.
"""
import math
import numbers
import warnings

import numpy as np

from .. import creation, dtypes
from ..cuda import devices
from ..ops.recurrent import Recurrent
from ..tensor import Tensor, cat
from . import functional as F
from . import init
from .functional_seq import gathered_rows
from .module import Module
from .parameter import Parameter
from .utils.rnn import PackedSequence, _packed_to_padded, _padded_to_packed

_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


def _zeros(like, shape):
    """A zero initial state: an array of ``like``'s dtype, on its device."""
    zeros = np.zeros(shape, dtype=like._data.dtype)
    return zeros if type(like._data) is np.ndarray else devices.like(zeros, like._data)


def _check_positive_int(layer, name, value):
    if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value <= 0:
        raise ValueError(f"{layer}: {name} must be a positive integer, got {value!r}")


class RNNBase(Module):
    """The parameters and the loop over layers and directions shared by RNN, LSTM and GRU."""

    def __init__(self, mode, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, proj_size=0, device=None, dtype=None):
        super().__init__()
        name = type(self).__name__
        _check_positive_int(name, "hidden_size", hidden_size)
        _check_positive_int(name, "num_layers", num_layers)
        if not isinstance(input_size, numbers.Integral) or input_size < 0:
            raise ValueError(f"{name}: input_size must be a non-negative integer, got {input_size!r}")
        if (not isinstance(dropout, numbers.Number) or isinstance(dropout, bool)
                or not 0 <= dropout <= 1):
            raise ValueError(f"{name}: dropout should be a number in range [0, 1] representing the "
                             f"probability of an element being zeroed, got {dropout!r}")
        if dropout > 0 and num_layers == 1:
            warnings.warn(f"dropout option adds dropout after all but last recurrent layer, so "
                          f"non-zero dropout expects num_layers greater than 1, but got "
                          f"dropout={dropout} and num_layers={num_layers}", stacklevel=3)
        if proj_size < 0:
            raise ValueError(f"{name}: proj_size should be a positive integer or zero to disable "
                             f"projections, got {proj_size}")
        if proj_size >= hidden_size:
            raise ValueError(f"{name}: proj_size has to be smaller than hidden_size, got proj_size="
                             f"{proj_size} and hidden_size={hidden_size}")
        if proj_size and mode != "LSTM":
            raise ValueError(f"{name}: proj_size argument is only supported for LSTM, not RNN or GRU")
        self.mode = mode
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bias = bias
        self.batch_first = batch_first
        self.dropout = float(dropout)
        self.bidirectional = bidirectional
        self.proj_size = proj_size
        directions = 2 if bidirectional else 1
        gate_size = _GATES[mode] * hidden_size
        real_hidden = proj_size or hidden_size
        self._flat_weights_names = []
        for layer in range(num_layers):
            layer_input = input_size if layer == 0 else real_hidden * directions
            for direction in range(directions):
                suffix = f"_l{layer}" + ("_reverse" if direction else "")
                shapes = [("weight_ih", (gate_size, layer_input)), ("weight_hh", (gate_size, real_hidden))]
                if bias:
                    shapes += [("bias_ih", (gate_size,)), ("bias_hh", (gate_size,))]
                if proj_size:
                    shapes.append(("weight_hr", (proj_size, hidden_size)))
                for kind, shape in shapes:
                    setattr(self, kind + suffix,
                            Parameter(creation.zeros(*shape, dtype=dtype, device=device)))
                    self._flat_weights_names.append(kind + suffix)
        self.reset_parameters()

    def reset_parameters(self):
        """Every weight and bias uniform in (-1/sqrt(hidden_size), 1/sqrt(hidden_size)), as PyTorch."""
        bound = 1.0 / math.sqrt(self.hidden_size)
        for weight in self.parameters():
            init.uniform_(weight, -bound, bound)

    def flatten_parameters(self):
        """Does nothing: PyTorch packs the weights for cuDNN here; lecture code calls it, so it exists."""

    @property
    def all_weights(self):
        """[[w_ih, w_hh, b_ih, b_hh(, w_hr)] for each layer and direction], as PyTorch."""
        per = len(self._flat_weights_names) // (self.num_layers * (2 if self.bidirectional else 1))
        names = self._flat_weights_names
        return [[getattr(self, n) for n in names[k:k + per]] for k in range(0, len(names), per)]

    def _weights(self, layer, direction):
        suffix = f"_l{layer}" + ("_reverse" if direction else "")
        get = self.__dict__.get
        return (get("weight_ih" + suffix), get("weight_hh" + suffix), get("bias_ih" + suffix),
                get("bias_hh" + suffix), get("weight_hr" + suffix))

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        if self.proj_size != 0:
            s += f", proj_size={self.proj_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if self.batch_first is not False:
            s += f", batch_first={self.batch_first}"
        if self.dropout != 0:
            s += f", dropout={self.dropout}"
        if self.bidirectional is not False:
            s += f", bidirectional={self.bidirectional}"
        return s

    # ------------------------------------------------------------------ forward
    def _state_shape(self, batch, size):
        return (self.num_layers * (2 if self.bidirectional else 1), batch, size)

    def _check_state(self, what, state, expected, batched):
        name = type(self).__name__
        if not isinstance(state, Tensor):
            raise TypeError(f"{name}: {what} must be a Tensor, got {type(state).__name__}")
        want = expected if batched else (expected[0], expected[2])
        if tuple(state.shape) != want:
            raise RuntimeError(f"{name}: Expected {what} size {want}, got {list(state.shape)}")

    def forward(self, input, hx=None):
        name = type(self).__name__
        is_lstm = self.mode == "LSTM"
        packed = isinstance(input, PackedSequence)
        lengths = sorted_indices = unsorted_indices = None
        if packed:
            x, lengths = _packed_to_padded(input)
            sorted_indices, unsorted_indices = input.sorted_indices, input.unsorted_indices
            batched = True
        else:
            if not isinstance(input, Tensor):
                raise TypeError(f"{name}: input must be a Tensor or a PackedSequence, got "
                                f"{type(input).__name__}")
            if input.ndim not in (2, 3):
                raise ValueError(f"{name}: Expected input to be 2D or 3D, got {input.ndim}D instead "
                                 f"(shape {tuple(input.shape)})")
            batched = input.ndim == 3
            x = input if batched else input.unsqueeze(1)
            if batched and self.batch_first:
                x = x.transpose(0, 1)
        if x.shape[-1] != self.input_size:
            raise RuntimeError(f"{name}: input.size(-1) must be equal to input_size. Expected "
                               f"{self.input_size}, got {x.shape[-1]}")
        weight_dtype = self.weight_ih_l0.dtype
        if x.dtype != weight_dtype:
            raise RuntimeError(f"{name}: input must have the type {dtypes.name(weight_dtype)}, got "
                               f"type {dtypes.name(x.dtype)}")
        batch = x.shape[1]
        real_hidden = self.proj_size or self.hidden_size
        h0 = c0 = None
        if hx is not None:
            if is_lstm:
                if not isinstance(hx, (tuple, list)) or len(hx) != 2:
                    raise TypeError(f"{name}: hx must be a tuple (h_0, c_0), got {type(hx).__name__}")
                h0, c0 = hx
                self._check_state("hidden", h0, self._state_shape(batch, real_hidden), batched)
                self._check_state("cell", c0, self._state_shape(batch, self.hidden_size), batched)
            else:
                h0 = hx
                self._check_state("hidden", h0, self._state_shape(batch, real_hidden), batched)
            if not batched:
                h0 = h0.unsqueeze(1)
                c0 = c0.unsqueeze(1) if c0 is not None else None
            if sorted_indices is not None:
                index = sorted_indices._data
                h0 = h0[:, index]
                c0 = c0[:, index] if c0 is not None else None
        steps = x.shape[0]
        directions = 2 if self.bidirectional else 1
        lengths_array = None if lengths is None else lengths._data
        h_n, c_n = [], []
        for layer in range(self.num_layers):
            sequences = []
            # an embedding's output read as is: the LSTM may compute with the embedding's table
            rows = gathered_rows(x) if layer == 0 and x is input and is_lstm else None
            for direction in range(directions):
                k = layer * directions + direction
                w_ih, w_hh, b_ih, b_hh, w_hr = self._weights(layer, direction)
                h_init = h0[k] if h0 is not None else _zeros(x, (batch, real_hidden))
                c_init = None
                if is_lstm:
                    c_init = c0[k] if c0 is not None else _zeros(x, (batch, self.hidden_size))
                out = Recurrent.apply(x, h_init, c_init, w_ih, w_hh, b_ih, b_hh, w_hr, self.mode,
                                      bool(direction), lengths_array, rows)
                if is_lstm:
                    sequences.append(out[:steps, :, :real_hidden])
                    h_n.append(out[steps:, :, :real_hidden])       # (1, B, P): stacked by cat
                    c_n.append(out[steps:, :, real_hidden:])
                else:
                    sequences.append(out[:steps])
                    h_n.append(out[steps:])
            x = sequences[0] if directions == 1 else cat(sequences, -1)
            if self.dropout and self.training and layer < self.num_layers - 1:
                x = F.dropout(x, self.dropout, True)
        h_n = h_n[0] if len(h_n) == 1 else cat(h_n)     # (one op fewer per state for one layer)
        c_n = (c_n[0] if len(c_n) == 1 else cat(c_n)) if is_lstm else None
        if packed:
            output = _padded_to_packed(x, input)
            if unsorted_indices is not None:
                index = unsorted_indices._data
                h_n = h_n[:, index]
                c_n = c_n[:, index] if c_n is not None else None
        elif not batched:
            output = x.squeeze(1)
            h_n = h_n.squeeze(1)
            c_n = c_n.squeeze(1) if c_n is not None else None
        else:
            output = x.transpose(0, 1) if self.batch_first else x
        return output, ((h_n, c_n) if is_lstm else h_n)


class RNN(RNNBase):
    """Elman RNN: h_t = tanh(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh) (or relu)."""

    def __init__(self, *args, nonlinearity="tanh", **kwargs):
        if len(args) > 3:   # PyTorch's positional order: input_size, hidden_size, num_layers, nonlinearity
            nonlinearity = args[3]
            args = args[:3] + args[4:]
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNN: Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or 'relu'.")
        self.nonlinearity = nonlinearity
        super().__init__("RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU", *args, **kwargs)


class LSTM(RNNBase):
    """Long short-term memory; returns output, (h_n, c_n). ``proj_size > 0`` projects h by weight_hr."""

    def __init__(self, *args, **kwargs):
        super().__init__("LSTM", *args, **kwargs)


class GRU(RNNBase):
    """Gated recurrent unit; returns output, h_n."""

    def __init__(self, *args, **kwargs):
        super().__init__("GRU", *args, **kwargs)


# ---------------------------------------------------------------------- cells
class RNNCellBase(Module):
    """One time step: weight_ih, weight_hh, bias_ih, bias_hh, as PyTorch names them."""

    def __init__(self, mode, input_size, hidden_size, bias, device=None, dtype=None):
        super().__init__()
        name = type(self).__name__
        _check_positive_int(name, "hidden_size", hidden_size)
        self.mode, self.input_size, self.hidden_size, self.bias = mode, input_size, hidden_size, bias
        gate_size = _GATES[mode] * hidden_size
        self.weight_ih = Parameter(creation.zeros(gate_size, input_size, dtype=dtype, device=device))
        self.weight_hh = Parameter(creation.zeros(gate_size, hidden_size, dtype=dtype, device=device))
        if bias:
            self.bias_ih = Parameter(creation.zeros(gate_size, dtype=dtype, device=device))
            self.bias_hh = Parameter(creation.zeros(gate_size, dtype=dtype, device=device))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self):
        bound = 1.0 / math.sqrt(self.hidden_size)
        for weight in self.parameters():
            init.uniform_(weight, -bound, bound)

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        nonlinearity = getattr(self, "nonlinearity", "tanh")
        if nonlinearity != "tanh":
            s += f", nonlinearity={nonlinearity}"
        return s

    def _step(self, input, states):
        """Run the one-step op; returns the (1, B, ...) final row and whether the input was batched."""
        name = type(self).__name__
        if not isinstance(input, Tensor):
            raise TypeError(f"{name}: input must be a Tensor, got {type(input).__name__}")
        if input.ndim not in (1, 2):
            raise ValueError(f"{name}: Expected input to be 1D or 2D, got {input.ndim}D instead "
                             f"(shape {tuple(input.shape)})")
        batched = input.ndim == 2
        x = input if batched else input.unsqueeze(0)
        if x.shape[1] != self.input_size:
            raise RuntimeError(f"{name}: input has inconsistent input_size: got {x.shape[1]} expected "
                               f"{self.input_size}")
        batch = x.shape[0]
        arrays = []
        for what, state in states:
            if state is None:
                arrays.append(_zeros(x, (batch, self.hidden_size)))
                continue
            want = (batch, self.hidden_size) if batched else (self.hidden_size,)
            if not isinstance(state, Tensor) or tuple(state.shape) != want:
                got = tuple(state.shape) if isinstance(state, Tensor) else type(state).__name__
                raise RuntimeError(f"{name}: {what} has inconsistent size: expected {want}, got {got}")
            arrays.append(state if batched else state.unsqueeze(0))
        c0 = arrays[1] if len(arrays) == 2 else None
        out = Recurrent.apply(x.unsqueeze(0), arrays[0], c0, self.weight_ih, self.weight_hh,
                              self.bias_ih, self.bias_hh, None, self.mode, False, None)
        last = out[1]
        return (last if batched else last.squeeze(0)), batched


class RNNCell(RNNCellBase):
    """h' = tanh(W_ih x + b_ih + W_hh h + b_hh) (or relu)."""

    def __init__(self, input_size, hidden_size, bias=True, nonlinearity="tanh", device=None, dtype=None):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNNCell: Unknown nonlinearity: {nonlinearity}")
        self.nonlinearity = nonlinearity
        super().__init__("RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU", input_size, hidden_size,
                         bias, device, dtype)

    def forward(self, input, hx=None):
        return self._step(input, [("hidden", hx)])[0]


class LSTMCell(RNNCellBase):
    """One LSTM step; returns (h', c')."""

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__("LSTM", input_size, hidden_size, bias, device, dtype)

    def forward(self, input, hx=None):
        h0, c0 = (None, None) if hx is None else hx
        last, _ = self._step(input, [("hidden", h0), ("cell", c0)])
        size = self.hidden_size
        return last[..., :size], last[..., size:]


class GRUCell(RNNCellBase):
    """One GRU step; returns h'."""

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__("GRU", input_size, hidden_size, bias, device, dtype)

    def forward(self, input, hx=None):
        return self._step(input, [("hidden", hx)])[0]
