"""From a printed module tree to the leaves in the order they run, each mapped onto a planner layer kind.

`MAPPINGS` is the table: one row per torch class, naming the planner kind that
follows its shape (or a rule of `debug` for the few the planner has no row for).
A container's forward order is known only for Sequential; a custom module or a
ModuleList is followed in printed order with a note, and a ModuleDict or a
module with a `downsample`/`shortcut`/`branch…` child stops the walk there with
a note, because its forward() merges paths the printout does not show.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from conv_lab.core.errors import ConvConfigError
from conv_lab.network.layers import LAYER_KINDS, check_value, ordered
from conv_lab.network.repr_parse import Module


@dataclass(frozen=True)
class Mapping:
    """How one torch class is followed: the planner kind for its shape, or a rule (planner None)."""

    planner: str | None
    positional: tuple[str, ...] = ()  # names of the values the repr prints without a name, in torch's order
    rule: str = "planner"  # planner | same | softmax | layernorm | unflatten
    ignored: tuple[str, ...] = ()  # printed arguments that never change a shape
    stand_in: bool = False  # the planner has no row of this class: its planner row is `planner` (same shapes)


_NORM = ("eps", "momentum", "bias", "track_running_stats")
_SAME = Mapping("ReLU", rule="same", stand_in=True)  # keeps the shape; its printed arguments are not needed
# One row per torch class (the 1-D and 3-D layers are generated after the table, from their 2-D rows).
MAPPINGS: dict[str, Mapping] = {
    "Conv2d": Mapping("Conv2d", ("in_channels", "out_channels")),
    "ConvTranspose2d": Mapping("ConvTranspose2d", ("in_channels", "out_channels")),
    "MaxPool2d": Mapping("MaxPool2d", ("kernel_size",), ignored=("return_indices",)),
    "AvgPool2d": Mapping("AvgPool2d", ("kernel_size",), ignored=("divisor_override",)),
    "AdaptiveAvgPool2d": Mapping("AdaptiveAvgPool2d", ("output_size",)),
    "AdaptiveMaxPool2d": Mapping("AdaptiveMaxPool2d", ("output_size",), ignored=("return_indices",)),
    "BatchNorm2d": Mapping("BatchNorm2d", ("num_features",), ignored=_NORM),
    "ReLU": Mapping("ReLU", ignored=("inplace",)),
    "Dropout": Mapping("Dropout", ("p",), ignored=("inplace",)),
    "Dropout2d": Mapping("Dropout", ("p",), ignored=("inplace",), stand_in=True),
    "Flatten": Mapping("Flatten", ("start_dim", "end_dim")),
    "Linear": Mapping("Linear", ("in_features", "out_features")),
    "Upsample": Mapping("Upsample", ("size", "scale_factor", "mode", "align_corners"),
                        ignored=("recompute_scale_factor",)),
    "LayerNorm": Mapping(None, ("normalized_shape",), "layernorm", ("eps", "elementwise_affine", "bias")),
    "Softmax": Mapping(None, ("dim",), "softmax"),
    "LogSoftmax": Mapping(None, ("dim",), "softmax"),
    "Unflatten": Mapping(None, ("dim", "unflattened_size"), "unflatten"),
    **{name: _SAME for name in ("GELU", "LeakyReLU", "SiLU", "Sigmoid", "Tanh", "Identity", "ELU", "ReLU6", "Mish",
                                "Hardswish", "Hardsigmoid", "Hardtanh", "Softplus", "AlphaDropout")},
}
# Conv1d, MaxPool3d, BatchNorm1d, …: the planner has every one of them in 1-D and 3-D with the 2-D row's arguments.
MAPPINGS.update({name.replace("2d", f"{n}d"): replace(mapping, planner=mapping.planner.replace("2d", f"{n}d"))
                 for name, mapping in list(MAPPINGS.items()) if name.endswith("2d") and name != "Dropout2d"
                 for n in (1, 3)})
CONTAINERS = ("Sequential", "ModuleList", "ModuleDict")
BRANCH_CHILDREN = ("downsample", "shortcut", "skip", "residual", "branch")  # names that mean a second path


@dataclass(frozen=True)
class Leaf:
    """One module without children, where it runs: its torch class, mapping and checked values."""

    name: str
    kind: str
    mapping: Mapping
    values: dict[str, Any]  # planner values (planner rule) or the constructor arguments of a rule
    assumed: bool = False  # inside a custom module or ModuleList: its place in the order is assumed
    boundary: bool = False  # a custom module's child began since the last layer that changes shapes (forward()
    # may have flattened the tensor there)


@dataclass
class Walk:
    """The leaves in running order, and where and why the walk stopped (None: it read the whole model)."""

    leaves: list[Leaf] = field(default_factory=list)
    stop: str | None = None
    stop_note: str = ""
    custom: list[str] = field(default_factory=list)  # custom modules and ModuleLists followed in printed order
    boundary: bool = False


def where(name: str) -> str:
    """A dotted module name as a sentence names it: a child of the model itself by its index, as Python reaches it.

    >>> where("7"), where("classifier.1")
    ('model[7]', 'classifier.1')
    """
    return f"model[{name}]" if name.isdigit() else name


def label(module: Module) -> str:
    """A module as the report names it.

    >>> label(Module("Linear", "classifier.1", 7)), label(Module("Net", "", 1))
    ('classifier.1 (Linear)', 'the model (Net)')
    """
    return f"{where(module.name)} ({module.kind})" if module.name else f"the model ({module.kind})"


def _bad(kind: str, name: str, value: Any) -> ConvConfigError:
    return ConvConfigError(name, f"{kind}'s {name}={value!r} is not a value Conv Lab can follow", "")


def _planner_values(kind: str, mapping: Mapping, given: dict[str, Any]) -> dict[str, Any]:
    planner = LAYER_KINDS[mapping.planner]
    values = {}
    for name, value in given.items():
        if name in mapping.ignored:
            continue
        if name not in [a.name for a in planner.args]:
            raise ConvConfigError(name, f"{kind} has an argument '{name}' the planner does not follow", "")
        if name == "scale_factor" and isinstance(value, tuple) and len(set(value)) == 1:
            value = value[0]  # Upsample prints (2.0, 2.0) when given a tuple
        if isinstance(value, tuple) and not all(type(v) is int for v in value):
            raise _bad(kind, name, value)
        checked = check_value(planner.arg(name), value)
        default = planner.arg(name).default
        if checked is not None and not (checked == default or checked == (default, default)):
            values[name] = checked  # torch's defaults are left out, as the planner's rows leave them out
    for arg in planner.args:
        if arg.required and arg.name not in values:
            raise ConvConfigError(arg.name, f"{kind} prints no {arg.name}", "")
    return ordered(planner, values)


def _rule_values(kind: str, mapping: Mapping, given: dict[str, Any]) -> dict[str, Any]:
    if mapping.rule == "same":
        return {}
    values = {k: v for k, v in given.items() if k not in mapping.ignored}
    for name, value in values.items():
        if name not in mapping.positional:
            raise ConvConfigError(name, f"{kind} has an argument '{name}' Conv Lab does not follow", "")
        whole = (value,) if not isinstance(value, tuple) else value
        if not all(type(v) is int and abs(v) <= 1 << 24 for v in whole) and not (name == "dim" and value is None):
            raise _bad(kind, name, value)
    if mapping.rule == "layernorm":
        shape = values.get("normalized_shape")
        if shape is None:
            raise ConvConfigError("normalized_shape", "LayerNorm prints no normalized_shape", "")
        values["normalized_shape"] = shape if isinstance(shape, tuple) else (shape,)
    if mapping.rule == "unflatten" and not (isinstance(values.get("dim"), int) and
                                            isinstance(values.get("unflattened_size"), tuple)):
        raise ConvConfigError("unflattened_size", "Unflatten needs dim and a tuple unflattened_size", "")
    return values


def leaf_values(module: Module, mapping: Mapping) -> dict[str, Any]:
    """The checked values of a printed leaf (positional ones named); ConvConfigError when Conv Lab cannot follow it.

    >>> from conv_lab.network.repr_parse import parse_repr
    >>> leaf_values(parse_repr("Conv2d(3, 8, kernel_size=(3, 3), stride=(1, 1))"), MAPPINGS["Conv2d"])
    {'in_channels': 3, 'out_channels': 8, 'kernel_size': (3, 3)}
    """
    if len(module.args) > len(mapping.positional):
        raise ConvConfigError("arguments", f"{module.kind} prints {len(module.args)} values without a name", "")
    given = dict(zip(mapping.positional, module.args))
    for name, value in module.kwargs:
        if name in given:
            raise ConvConfigError(name, f"{module.kind} gives {name} twice", "")
        given[name] = value
    if mapping.rule == "planner":
        return _planner_values(module.kind, mapping, given)
    return _rule_values(module.kind, mapping, given)


def _stop(walk: Walk, module: Module, note: str) -> None:
    walk.stop, walk.stop_note = module.name, note


def _leaf(module: Module, assumed: bool, walk: Walk) -> None:
    if module.kind in CONTAINERS:
        return  # an empty container passes the tensor on unchanged (an empty ModuleList is never called)
    mapping = MAPPINGS.get(module.kind)
    if mapping is None:
        _stop(walk, module, f"{label(module)} is a module type Conv Lab does not know, so the report stops "
                            "there rather than guess what it does to the shape")
        return
    if module.unreadable:
        _stop(walk, module, f"the arguments of {label(module)} cannot be read ({module.unreadable}); the report stops "
                            "there")
        return
    try:
        values = leaf_values(module, mapping)
    except ConvConfigError as exc:
        _stop(walk, module, f"{label(module)}: {exc.why}{'; ' + exc.fix if exc.fix else ''} — the report stops there")
        return
    walk.leaves.append(Leaf(module.name, module.kind, mapping, values, assumed, walk.boundary))
    walk.boundary = walk.boundary and (mapping.rule == "same" or mapping.planner in ("ReLU", "Dropout"))


def collect(module: Module, walk: Walk | None = None, assumed: bool = False) -> Walk:
    """The leaves of `module` in the order they run (printed order), up to the first module the walk cannot follow.

    >>> from conv_lab.network.repr_parse import parse_repr
    >>> walk = collect(parse_repr("Net(\\n  (a): ReLU()\\n  (b): Mystery()\\n)"))
    >>> [leaf.name for leaf in walk.leaves], walk.stop
    (['a'], 'b')
    """
    walk = Walk() if walk is None else walk
    if walk.stop is not None:
        return walk
    if not module.children:
        _leaf(module, assumed, walk)
        return walk
    if module.kind == "ModuleDict":
        _stop(walk, module, f"{label(module)} is a ModuleDict: forward() picks which of its modules run and in what "
                            "order (often parallel branches), which print(model) does not show; the report stops there")
        return walk
    branches = [c.name.rsplit(".", 1)[-1] for c in module.children
                if c.name.rsplit(".", 1)[-1].lower().startswith(BRANCH_CHILDREN)]
    custom = module.kind not in CONTAINERS
    if custom and branches:
        _stop(walk, module, f"{label(module)} has a '{branches[0]}' child: its forward() runs a second path and "
                            "merges it (a skip connection or parallel branches), in an order print(model) does not "
                            "show; the report stops there rather than report a false break")
        return walk
    if custom or module.kind == "ModuleList":
        walk.custom.append(label(module))
    for child in module.children:
        walk.boundary = walk.boundary or custom
        collect(child, walk, assumed or custom or module.kind == "ModuleList")
        if walk.stop is not None:
            break
    return walk
