"""Op table rows: nn ops (see ``autodiff.ops.table``).

The losses are called through ``lib.nn.functional.<name>`` (the same spelling in both
libraries). Samples keep differences off each loss's kinks (|x - y| = beta, the hinge's
zero, target = 1 in Poisson's Stirling term), so finite differences are meaningful.
"""
import numpy as np

from . import OpInfo, Sample, arr

REDUCTIONS = ("mean", "sum", "none")


def _functional(name):
    return lambda lib, *args, **kwargs: getattr(lib.nn.functional, name)(*args, **kwargs)


def _signs(rng, shape):
    return rng.choice([-1.0, 1.0], size=shape)


def _pair_off(rng, shape, kinks, spread=3.0):
    """(x, y) with y = x - d and d at least 1e-2 from each kink."""
    x = arr(rng, shape)
    d = arr(rng, shape, -spread, spread, avoid=kinks)
    return x, x - d


def _regression(kinks, integer_target=True, weighted=False, **fixed):
    """mse/l1/smooth_l1/huber: each reduction, non-contiguous, an integer target, zero-size."""
    def samples(rng):
        out = [Sample(*_pair_off(rng, (3, 4), kinks), reduction=r, **fixed) for r in REDUCTIONS]
        out.append(Sample(*_pair_off(rng, (5,), kinks), **fixed))
        out.append(Sample(*_pair_off(rng, (3, 4), kinks), kind="noncontiguous", **fixed))
        if integer_target:                                 # promoted to the input's dtype
            target = np.array([[0, 1, 2], [3, 1, 0]])
            out.append(Sample(target + arr(rng, (2, 3), -3, 3, avoid=kinks), target, **fixed))
        out.append(Sample(np.zeros((0, 3)), np.zeros((0, 3)), reduction="sum", kind="zero", **fixed))
        if weighted:                                       # PyTorch's weighted mean: over sum(weight)
            for r in REDUCTIONS:
                x, y = _pair_off(rng, (3, 4), kinks)
                out.append(Sample(x, y, None, None, r, arr(rng, (3, 4), 0.1, 2)))
        return out
    return samples


def _kl_div(rng):
    out = []
    for r in ("batchmean", "sum", "none", "mean"):
        out.append(Sample(arr(rng, (3, 4), -3, -0.1), arr(rng, (3, 4), 0.05, 1.0), reduction=r))
    out.append(Sample(arr(rng, (3, 4), -3, -0.1), arr(rng, (3, 4), -3, 0.0), reduction="batchmean",
                      log_target=True))
    out.append(Sample(arr(rng, (3, 4), -3, -0.1), arr(rng, (3, 4), 0.05, 1.0), reduction="sum",
                      kind="noncontiguous"))
    return out


def _soft_margin(rng):
    return [Sample(arr(rng, (3, 4), -3, 3), _signs(rng, (3, 4)), reduction=r) for r in REDUCTIONS] + \
        [Sample(arr(rng, (6,), -3, 3), _signs(rng, (6,)), kind="noncontiguous")]


def _multilabel(rng):
    out = [Sample(arr(rng, (3, 4), -3, 3), (rng.uniform(size=(3, 4)) > 0.5) * 1.0, reduction=r)
           for r in REDUCTIONS]
    out.append(Sample(arr(rng, (3, 4), -3, 3), rng.uniform(size=(3, 4)), arr(rng, (4,), 0.1, 2)))  # weight
    out.append(Sample(arr(rng, (4,), -3, 3), (rng.uniform(size=(4,)) > 0.5) * 1.0))
    return out


def _margin_ranking(rng):
    out = []
    for margin, r in ((0.0, "mean"), (0.5, "sum"), (0.3, "none")):
        x1 = arr(rng, (6,))
        y = _signs(rng, (6,))
        d = arr(rng, (6,), -2, 2, avoid=(margin, -margin))     # the kink: y d = margin
        out.append(Sample(x1, x1 - d, y, margin=margin, reduction=r))
    return out


def _hinge(rng):
    return [Sample(arr(rng, (3, 4), 0, 3, avoid=(margin,)), _signs(rng, (3, 4)), margin=margin, reduction=r)
            for margin, r in ((1.0, "mean"), (2.0, "sum"), (0.5, "none"))]


def _cosine(rng):
    return [Sample(arr(rng, (4, 5)), arr(rng, (4, 5)), _signs(rng, (4,)), margin=m, reduction=r)
            for m, r in ((0.0, "mean"), (0.2, "sum"), (-0.3, "none"))] + \
        [Sample(arr(rng, (5,)), arr(rng, (5,)), np.array(-1.0), reduction="none")]


def _triplet(rng):
    def three(shape):
        return arr(rng, shape), arr(rng, shape), arr(rng, shape)
    return [Sample(*three((4, 5)), reduction="mean"),
            Sample(*three((4, 5)), p=1, margin=2.0, reduction="sum"),
            Sample(*three((4, 5)), swap=True, margin=3.0, reduction="none"),
            Sample(*three((5,)), p=3, margin=3.0),
            Sample(*three((4, 5)), margin=3.0, kind="noncontiguous")]


def _multi_margin(rng):
    target = np.array([0, 3, 1, 4])
    return [Sample(arr(rng, (4, 5)), target, reduction="mean"),
            Sample(arr(rng, (4, 5)), target, p=2, margin=0.5, reduction="sum"),
            Sample(arr(rng, (4, 5)), target, 1, 1.0, arr(rng, (5,), 0.1, 2), reduction="none"),  # weight
            Sample(arr(rng, (5,)), np.array(2)),
            Sample(arr(rng, (4, 5)), target, kind="noncontiguous")]


def _poisson(rng):
    counts = arr(rng, (3, 4), 0, 4, avoid=(1.0,))
    return [Sample(arr(rng, (3, 4)), counts, reduction=r) for r in REDUCTIONS] + [
        Sample(arr(rng, (3, 4)), counts, full=True),
        Sample(arr(rng, (3, 4), 0.1, 3), counts, log_input=False, reduction="sum"),
        Sample(arr(rng, (3, 4), 0.1, 3), counts, log_input=False, full=True, eps=1e-3),
        Sample(arr(rng, (3, 4)), counts, kind="noncontiguous")]


def _gaussian(rng):
    return [Sample(arr(rng, (3, 4)), arr(rng, (3, 4)), arr(rng, (3, 4), 0.1, 2), reduction=r)
            for r in REDUCTIONS] + [
        Sample(arr(rng, (3, 4)), arr(rng, (3, 4)), arr(rng, (3, 1), 0.1, 2), full=True),
        Sample(arr(rng, (3, 4)), arr(rng, (3, 4)), arr(rng, (3,), 0.1, 2), reduction="sum"),
        Sample(arr(rng, (3, 4)), arr(rng, (3, 4)), 0.7),
        Sample(arr(rng, (3, 4)), arr(rng, (3, 4)), arr(rng, (3, 4), 0.1, 2), kind="noncontiguous")]


def _pairwise(rng):
    return [Sample(arr(rng, (4, 5)), arr(rng, (4, 5))), Sample(arr(rng, (4, 5)), arr(rng, (5,)), p=1),
            Sample(arr(rng, (3,)), arr(rng, (3,)), keepdim=True), Sample(arr(rng, (2, 3)), arr(rng, (2, 3)), p=3)]


def _loss(name, samples, **options):
    return OpInfo(name, samples=samples, call=_functional(name), method=False, function=False, **options)


ROWS = [
    _loss("mse_loss", _regression((), weighted=True)),
    _loss("l1_loss", _regression((0.0,), weighted=True)),
    _loss("smooth_l1_loss", _regression((0.0, -1.0, 1.0))),
    _loss("huber_loss", _regression((0.0, -0.7, 0.7), integer_target=False, delta=0.7),
          notes="PyTorch's huber_loss backward rejects an integer target; no such sample"),
    _loss("kl_div", _kl_div),
    _loss("soft_margin_loss", _soft_margin, grad_args=(0,),
          notes="PyTorch: not differentiable with respect to the target"),
    _loss("multilabel_soft_margin_loss", _multilabel),
    _loss("margin_ranking_loss", _margin_ranking),
    _loss("hinge_embedding_loss", _hinge),
    _loss("cosine_embedding_loss", _cosine),
    _loss("triplet_margin_loss", _triplet),
    _loss("multi_margin_loss", _multi_margin, grad_args=(0,),
          notes="PyTorch: not differentiable with respect to the class weights"),
    _loss("poisson_nll_loss", _poisson),
    _loss("gaussian_nll_loss", _gaussian),
    _loss("pairwise_distance", _pairwise),
]
