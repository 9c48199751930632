"""Op table rows: convolution, pooling, padding, resizing and image normalisation
(``autodiff.nn.functional``; see ``autodiff.ops.table``).

Each row calls ``lib.nn.functional.<name>``, so the same call runs on autodiff and torch.
Shapes are tiny (the finite-difference checks perturb every element) and cover the corner
cases: stride, padding (int, tuple, 'same'), dilation, groups (depthwise too), unbatched
inputs, ceil_mode, count_include_pad, every padding mode, align_corners.
"""
import numpy as np

from . import OpInfo, Sample, arr


def functional(name):
    return lambda lib, *args, **kwargs: getattr(lib.nn.functional, name)(*args, **kwargs)


def _max_values(rng, shape):
    """Distinct values spaced at least 0.05 apart, so no window's maximum is a near-tie
    (finite differences across a tie are meaningless)."""
    n = int(np.prod(shape))
    return (rng.permutation(n) * 0.05 - n * 0.025).reshape(shape)


def _conv2d(rng):
    return [
        Sample(arr(rng, (2, 2, 5, 5)), arr(rng, (3, 2, 3, 3)), arr(rng, (3,))),
        Sample(arr(rng, (1, 2, 6, 5)), arr(rng, (2, 2, 2, 3)), None, stride=2, padding=(1, 2)),
        Sample(arr(rng, (1, 2, 7, 6)), arr(rng, (2, 1, 3, 2)), arr(rng, (2,)), dilation=(2, 1), groups=2),
        Sample(arr(rng, (1, 3, 4, 4)), arr(rng, (3, 1, 3, 3)), None, padding="same", groups=3),   # depthwise
        Sample(arr(rng, (2, 4, 4)), arr(rng, (2, 2, 2, 2)), arr(rng, (2,)), padding="valid"),         # unbatched
        Sample(arr(rng, (1, 2, 4, 5)), arr(rng, (2, 2, 2, 2)), None, stride=(1, 2), padding=1,
               kind="noncontiguous"),
    ]


def _conv1d(rng):
    return [
        Sample(arr(rng, (2, 2, 7)), arr(rng, (3, 2, 3)), arr(rng, (3,)), stride=2, padding=1),
        Sample(arr(rng, (1, 4, 6)), arr(rng, (4, 2, 2)), None, dilation=2, groups=2, padding="same"),
        Sample(arr(rng, (2, 5)), arr(rng, (1, 2, 3)), None),
    ]


def _conv_transpose2d(rng):
    return [
        Sample(arr(rng, (2, 2, 3, 3)), arr(rng, (2, 3, 2, 2)), arr(rng, (3,))),
        Sample(arr(rng, (1, 4, 3, 2)), arr(rng, (4, 1, 3, 2)), None, stride=2, padding=1, output_padding=1,
               groups=2),
        Sample(arr(rng, (1, 2, 3, 3)), arr(rng, (2, 2, 2, 2)), arr(rng, (2,)), dilation=2, stride=(1, 2)),
    ]


def _conv_transpose1d(rng):
    return [Sample(arr(rng, (2, 2, 4)), arr(rng, (2, 3, 3)), arr(rng, (3,)), stride=2, padding=1,
                   output_padding=1)]


def _pad(rng):
    out = [Sample(arr(rng, (2, 3, 4)), pad=(1, 2), mode=mode) for mode in ("reflect", "replicate", "circular")]
    out += [Sample(arr(rng, (1, 2, 3, 4)), pad=(1, 1, 2, 0), mode=mode) for mode in ("reflect", "replicate",
                                                                                     "circular")]
    out += [Sample(arr(rng, (2, 3, 4)), pad=(1, -1, 0, 2), value=1.5),
            Sample(arr(rng, (2, 3, 4)), pad=(2, 1, 1, 1, 1, 0)),
            Sample(arr(rng, (3, 4)), pad=(1, 1), kind="noncontiguous")]
    return out


def _unfold(rng):
    return [Sample(arr(rng, (2, 2, 4, 5)), kernel_size=(2, 3), padding=1, stride=(2, 1), dilation=(1, 2)),
            Sample(arr(rng, (1, 3, 3)), kernel_size=2)]


def _fold(rng):
    return [Sample(arr(rng, (2, 12, 8)), output_size=(5, 6), kernel_size=(2, 3), stride=(1, 2)),
            Sample(arr(rng, (8, 4)), output_size=(3, 3), kernel_size=2, padding=1, dilation=(2, 1), stride=2)]


def _max_pool2d(rng):
    return [Sample(_max_values(rng, (2, 2, 5, 6)), kernel_size=2),
            Sample(_max_values(rng, (1, 2, 7, 6)), kernel_size=3, stride=2, padding=1, ceil_mode=True),
            Sample(_max_values(rng, (1, 1, 6, 6)), kernel_size=(2, 3), stride=1, dilation=2, return_indices=True),
            Sample(_max_values(rng, (2, 5, 4)), kernel_size=2, stride=1)]


def _max_pool1d(rng):
    return [Sample(_max_values(rng, (2, 3, 7)), kernel_size=3, stride=2, padding=1, ceil_mode=True),
            Sample(_max_values(rng, (2, 6)), kernel_size=2, return_indices=True)]


def _avg_pool2d(rng):
    return [Sample(arr(rng, (2, 2, 5, 6)), kernel_size=2),
            Sample(arr(rng, (1, 2, 7, 6)), kernel_size=3, stride=2, padding=1, ceil_mode=True),
            Sample(arr(rng, (1, 2, 7, 6)), kernel_size=3, stride=2, padding=1, ceil_mode=True,
                   count_include_pad=False),
            Sample(arr(rng, (1, 1, 4, 4)), kernel_size=(2, 3), stride=1, divisor_override=4)]


def _avg_pool1d(rng):
    return [Sample(arr(rng, (2, 3, 7)), kernel_size=3, stride=2, padding=1, count_include_pad=False)]


def _adaptive(spatial, max_values=False):
    def samples(rng):
        make = _max_values if max_values else arr
        if spatial == 1:
            return [Sample(make(rng, (2, 3, 7)), output_size=3), Sample(make(rng, (2, 5)), output_size=5)]
        return [Sample(make(rng, (2, 2, 5, 7)), output_size=(3, 4)),
                Sample(make(rng, (1, 2, 4, 4)), output_size=1),
                Sample(make(rng, (2, 5, 6)), output_size=(None, 4))]
    return samples


def _max_unpool2d(rng):
    indices = np.array([[[[0, 3], [9, 14]], [[5, 2], [8, 15]]]])     # one per 2x2 window of a 4x4 plane
    return [Sample(arr(rng, (1, 2, 2, 2)), indices, kernel_size=2),
            Sample(arr(rng, (1, 2, 2, 2)), indices, kernel_size=2, output_size=(5, 4))]


def _interpolate(rng):
    return [Sample(arr(rng, (1, 2, 3, 4)), scale_factor=2),
            Sample(arr(rng, (1, 2, 5, 4)), size=(3, 7), mode="nearest"),
            Sample(arr(rng, (1, 2, 5, 4)), size=(3, 7), mode="nearest-exact"),
            Sample(arr(rng, (1, 2, 3, 4)), scale_factor=1.5, mode="bilinear", align_corners=False),
            Sample(arr(rng, (1, 2, 3, 4)), size=(5, 2), mode="bilinear", align_corners=True),
            Sample(arr(rng, (2, 2, 5)), size=8, mode="linear")]


def _pixel_shuffle(rng):
    return [Sample(arr(rng, (2, 8, 2, 3)), upscale_factor=2), Sample(arr(rng, (9, 2, 1)), upscale_factor=3)]


def _pixel_unshuffle(rng):
    return [Sample(arr(rng, (2, 2, 4, 6)), downscale_factor=2)]


def _layer_norm(rng):
    return [Sample(arr(rng, (3, 4)), normalized_shape=(4,)),
            Sample(arr(rng, (2, 3, 4)), (3, 4), arr(rng, (3, 4)), arr(rng, (3, 4))),
            Sample(arr(rng, (2, 5)), [5], arr(rng, (5,)), None, eps=1e-3)]


def _group_norm(rng):
    return [Sample(arr(rng, (2, 4, 3)), 2, arr(rng, (4,)), arr(rng, (4,))),
            Sample(arr(rng, (2, 6, 2, 2)), 3),
            Sample(arr(rng, (3, 2, 3)), 1, eps=1e-3)]


def _instance_norm(rng):
    return [Sample(arr(rng, (2, 3, 4))),
            Sample(arr(rng, (2, 2, 3, 3)), None, None, arr(rng, (2,)), arr(rng, (2,)))]


def _row(name, samples, **kwargs):
    return OpInfo(f"nn.functional.{name}", samples=samples, call=functional(name), **kwargs)


ROWS = [
    _row("conv2d", _conv2d, atol=1e-5),
    _row("conv1d", _conv1d, atol=1e-5),
    _row("conv_transpose2d", _conv_transpose2d, atol=1e-5),
    _row("conv_transpose1d", _conv_transpose1d, atol=1e-5),
    _row("pad", _pad),
    _row("unfold", _unfold),
    _row("fold", _fold),
    _row("max_pool2d", _max_pool2d),
    _row("max_pool1d", _max_pool1d),
    _row("avg_pool2d", _avg_pool2d),
    _row("avg_pool1d", _avg_pool1d),
    _row("adaptive_avg_pool1d", _adaptive(1)),
    _row("adaptive_avg_pool2d", _adaptive(2)),
    _row("adaptive_max_pool1d", _adaptive(1, max_values=True)),
    _row("adaptive_max_pool2d", _adaptive(2, max_values=True)),
    _row("max_unpool2d", _max_unpool2d),
    _row("interpolate", _interpolate),
    _row("pixel_shuffle", _pixel_shuffle),
    _row("pixel_unshuffle", _pixel_unshuffle),
    _row("layer_norm", _layer_norm, atol=1e-5),
    _row("group_norm", _group_norm, atol=1e-5),
    _row("instance_norm", _instance_norm, atol=1e-5),
]
