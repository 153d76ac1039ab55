"""Projector mode's formula: dimensions with the same numbers worked out once (H_out = W_out = …), to fit 720 px."""

from __future__ import annotations

from conv_lab.core.shapes import DimStep


def _pattern(step: DimStep) -> str:
    """The step's latex with its own symbol replaced by a placeholder (equal patterns: the same numbers)."""
    return step.latex.replace(f"{step.symbol}_{{", "@_{")


def merged_latex(steps: tuple[DimStep, ...] | list[DimStep]) -> list[tuple[str, tuple[DimStep, ...]]]:
    """(latex, steps) per group of dimensions whose formulas have the same numbers, in axis order.

    The merged formula names every output on its left (`H_{out} = W_{out}`) and keeps the first one's symbols.

    >>> from conv_lab.core.spec import ConvSpec
    >>> spec = ConvSpec(3, 8, 3, stride=2, padding=1)
    >>> [(latex.split("&")[0], len(group)) for latex, group in merged_latex(spec.explain((1, 3, 9, 9)).dims)]
    [('\\\\begin{aligned}H_{out} = W_{out} ', 2)]
    """
    groups: dict[str, list[DimStep]] = {}
    for step in steps:
        groups.setdefault(_pattern(step), []).append(step)
    merged = []
    for pattern, group in groups.items():
        outs = " = ".join(f"{s.symbol}_{{out}}" for s in group)
        first = group[0].symbol
        latex = pattern.replace("@_{out}", outs, 1).replace("@_{", f"{first}_{{")
        merged.append((latex, tuple(group)))
    return merged


def stacked_latex(blocks: list[str]) -> str:
    r"""Formula blocks stacked in one display, each centred, a little apart: one st.latex instead of one per block.

    >>> print(stacked_latex([r"H_{out} = 3", r"C_{out} = 8"]))
    \begin{gathered}H_{out} = 3 \\ \\ C_{out} = 8\end{gathered}
    """
    # An empty row between blocks: a `\\[18pt]` gap is lost under a block deeper than 18pt (KaTeX, like LaTeX).
    return r"\begin{gathered}" + r" \\ \\ ".join(blocks) + r"\end{gathered}"
