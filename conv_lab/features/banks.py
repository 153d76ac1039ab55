"""Filter banks for the feature-map page: classic hand-made kernels, seeded random ones, and a mix.

A bank decides every filter of the real module: `apply_bank` writes the weights into the
nn.Conv2d / nn.ConvTranspose2d (respecting groups: filter f only sees the input channels of its
group) and returns what each filter is, for captions and drawings. Classic kernels are built at
the configured kernel size (non-square and even sizes included, where the kernel makes sense).
"""

from __future__ import annotations

from dataclasses import dataclass
from math import comb

import numpy as np
import torch
from torch import nn

from conv_lab.core.errors import ConvConfigError
from conv_lab.core.params import filter_channels, fmt
from conv_lab.core.spec import ConvSpec

BANKS: dict[str, str] = {
    "classic": "hand-made kernels: identity, blurs, sharpen, Sobel, Prewitt, Laplacian, emboss",
    "random": "seeded random kernels, exactly as torch initialises an untrained layer",
    "mix": "the first half classic, the rest seeded random",
}


def _binomial(n: int) -> np.ndarray:
    return np.array([comb(n - 1, i) for i in range(n)], dtype=np.float64)


def _derivative(n: int) -> np.ndarray:
    """Central difference smoothed to length n: [-1, 1], [-1, 0, 1], [-1, -2, 0, 2, 1], …"""
    if n == 2:
        return np.array([-1.0, 1.0])
    return np.convolve([-1.0, 0.0, 1.0], _binomial(n - 2))


def _ramp(n: int) -> np.ndarray:
    r = np.arange(n, dtype=np.float64) - (n - 1) / 2
    return r * 2 if n % 2 == 0 else r


def _gauss1d(n: int) -> np.ndarray:
    sigma = 0.3 * ((n - 1) * 0.5 - 1) + 0.8  # OpenCV's choice of sigma for a given size
    x = np.arange(n, dtype=np.float64) - (n - 1) / 2
    g = np.exp(-0.5 * (x / sigma) ** 2)
    return g / g.sum()


def _delta(kh: int, kw: int) -> np.ndarray:
    d = np.zeros((kh, kw))
    d[(kh - 1) // 2, (kw - 1) // 2] = 1.0
    return d


def _laplacian(kh: int, kw: int) -> np.ndarray:
    if (kh, kw) == (3, 3):
        return np.array([[0.0, 1, 0], [1, -4, 1], [0, 1, 0]])
    # Laplacian of Gaussian, centre negative like the 3×3 one, made to sum to exactly zero.
    sy, sx = 0.3 * ((kh - 1) * 0.5 - 1) + 0.8, 0.3 * ((kw - 1) * 0.5 - 1) + 0.8
    y, x = np.mgrid[0:kh, 0:kw].astype(np.float64)
    y, x = (y - (kh - 1) / 2) / sy, (x - (kw - 1) / 2) / sx
    g = np.exp(-0.5 * (x ** 2 + y ** 2))
    log = (x ** 2 + y ** 2 - 2) * g
    log -= log.mean()
    return log / np.abs(log).max() * 4


def _emboss(kh: int, kw: int) -> np.ndarray:
    i, j = np.mgrid[0:kh, 0:kw].astype(np.float64)
    e = 2 * (i / (kh - 1) + j / (kw - 1)) - 2  # −2 top-left … +2 bottom-right
    return e + _delta(kh, kw)


def classic_kernels(kh: int, kw: int) -> list[tuple[str, np.ndarray]]:
    """The classic kernels that make sense at kh×kw, as (name, kernel) for cross-correlation (torch's convention).

    >>> [name for name, _ in classic_kernels(3, 3)][:5]
    ['identity', 'box blur', 'Gaussian blur', 'sharpen', 'Sobel x']
    >>> classic_kernels(3, 3)[4][1].astype(int).tolist()
    [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]]
    """
    kernels = [("identity", _delta(kh, kw)), ("box blur", np.full((kh, kw), 1.0 / (kh * kw)))]
    if kh * kw > 1:
        gauss = np.outer(_gauss1d(kh), _gauss1d(kw))
        kernels.append(("Gaussian blur", gauss))
        sharpen = (np.array([[0.0, -1, 0], [-1, 5, -1], [0, -1, 0]]) if (kh, kw) == (3, 3)
                   else 2 * _delta(kh, kw) - gauss)
        kernels.append(("sharpen", sharpen))
    if kw >= 2:
        kernels.append(("Sobel x", np.outer(_binomial(kh), _derivative(kw))))
    if kh >= 2:
        kernels.append(("Sobel y", np.outer(_derivative(kh), _binomial(kw))))
    if kw >= 2:
        kernels.append(("Prewitt x", np.outer(np.ones(kh), _ramp(kw))))
    if kh >= 2:
        kernels.append(("Prewitt y", np.outer(_ramp(kh), np.ones(kw))))
    if kh >= 3 and kw >= 3:
        kernels.append(("Laplacian", _laplacian(kh, kw)))
    if kh >= 2 and kw >= 2:
        kernels.append(("emboss", _emboss(kh, kw)))
    return kernels


def classic_kernel(name: str, kh: int, kw: int) -> np.ndarray:
    """One classic kernel by name at kh×kw; ConvConfigError when it makes no sense at that size.

    >>> classic_kernel("box blur", 2, 2).tolist()
    [[0.25, 0.25], [0.25, 0.25]]
    """
    for kernel_name, kernel in classic_kernels(kh, kw):
        if kernel_name == name:
            return kernel
    raise ConvConfigError("kernel_size", f"the {name!r} kernel makes no sense at {fmt((kh, kw))}",
                          "use a kernel of at least 3×3 for edge and Laplacian filters")


@dataclass(frozen=True)
class Filter:
    """One filter of the bank: what it is, which input channels it sees, and its weights."""

    index: int
    name: str
    kind: str  # "classic" | "random"
    sees: tuple[int, ...]  # input channel indices this filter reads (its group)
    weights: np.ndarray  # (len(sees), kh, kw): the correlation kernel applied to each seen channel

    @property
    def kernel(self) -> np.ndarray:
        """The kh×kw pattern: the per-channel kernel for classic filters, the sum over channels for random ones.

        >>> Filter(0, "box", "classic", (0, 1), np.full((2, 1, 1), 0.5)).kernel.tolist()
        [[1.0]]
        """
        return self.weights.sum(axis=0)


def _classic_plan(n: int, kh: int, kw: int) -> list[tuple[str, np.ndarray]]:
    base = classic_kernels(kh, kw)
    plan = []
    for i in range(n):
        name, kernel = base[i % len(base)]
        rounds = i // len(base)
        if rounds % 2 == 1:  # second pass: the opposite sign (an edge filter then answers the other edge)
            name, kernel = f"−{name}", -kernel
        if rounds >= 2:
            name = f"{name} #{rounds // 2 + 1}"
        plan.append((name, kernel))
    return plan


def _kinds(bank: str, n: int) -> list[str]:
    if bank not in BANKS:
        raise ConvConfigError("bank", f"{bank!r} is not a filter bank Conv Lab knows", "use one of " + ", ".join(BANKS))
    if bank == "mix":
        return ["classic" if i < (n + 1) // 2 else "random" for i in range(n)]
    return [bank] * n


def apply_bank(module: nn.Module, spec: ConvSpec, bank: str, seed: int = 0) -> tuple[Filter, ...]:
    """Write the bank's weights into the real module (in place) and describe each filter.

    >>> m = nn.Conv2d(3, 4, 3)
    >>> [f.name for f in apply_bank(m, ConvSpec(3, 4, 3), "classic")]
    ['identity', 'box blur', 'Gaussian blur', 'sharpen']
    """
    kinds = _kinds(bank, spec.out_channels)
    kh, kw = spec.kernel_hw
    expected = ((spec.in_channels, spec.out_channels // spec.groups) if spec.transposed
                else (spec.out_channels, spec.in_channels // spec.groups)) + (kh, kw)
    if tuple(module.weight.shape) != expected:
        raise ConvConfigError("layer", f"the module's weight is {tuple(module.weight.shape)}, the spec needs {expected}",
                              "build the module from the same spec")
    # torch's default initialisation (kaiming_uniform with a=√5: U(−1/√fan_in, 1/√fan_in)), drawn from a
    # private generator so the seed decides the kernels without touching torch's global random state.
    generator = torch.Generator().manual_seed(int(seed))
    bound = 1 / np.sqrt(expected[1] * kh * kw)
    random_weight = ((torch.rand(expected, generator=generator) * 2 - 1) * bound) if "random" in kinds else None
    plan = iter(_classic_plan(kinds.count("classic"), kh, kw))
    per_group_out = spec.out_channels // spec.groups
    filters = []
    with torch.no_grad():
        for f, kind in enumerate(kinds):
            sees = tuple(filter_channels(spec.in_channels, spec.out_channels, spec.groups, f))
            local = f % per_group_out
            if kind == "classic":
                name, kernel = next(plan)
                weights = np.repeat((kernel / len(sees))[None], len(sees), axis=0)
            else:
                name = "random"
                block = random_weight[list(sees), local] if spec.transposed else random_weight[f]
                weights = block.numpy().astype(np.float64)
                if spec.transposed:
                    weights = weights[:, ::-1, ::-1]
            # ConvTranspose2d scatters with the kernel, i.e. correlates with it flipped: store it flipped.
            # (np.ascontiguousarray keeps negative strides on size-1 arrays; torch refuses those: copy.)
            stored = torch.tensor((weights[:, ::-1, ::-1] if spec.transposed else weights).copy(order="C"),
                                  dtype=module.weight.dtype)
            if spec.transposed:
                module.weight[list(sees), local] = stored
            else:
                module.weight[f] = stored
            filters.append(Filter(f, name, kind, sees, weights.copy(order="C")))
        if module.bias is not None:
            module.bias.zero_()
    return tuple(filters)


def sees_text(sees: tuple[int, ...], channel_names: tuple[str, ...]) -> str:
    """Which input channels a filter reads, in words.

    >>> sees_text((0, 1, 2), ("R", "G", "B")), sees_text((4, 5, 6, 7), tuple("abcdefgh"))
    ('R+G+B', 'in 4–7')
    """
    if len(sees) <= 3:
        return "+".join(channel_names[c] if c < len(channel_names) else str(c) for c in sees)
    return f"in {sees[0]}–{sees[-1]}"
