"""Debug my model: models built with real torch, printed with repr, checked against a real forward pass with hooks."""

from __future__ import annotations

import builtins
import pickle
import re
from collections import OrderedDict

import pytest
import torch
from hypothesis import event, given, settings
from hypothesis import strategies as st
from torch import nn

from conv_lab import limits
from conv_lab.core.errors import ConvConfigError
from conv_lab.network.debug import debug_model, read_input_shape
from conv_lab.network.view import SAMPLE_MODEL

from conftest import n_examples


def torch_forward(model: nn.Module, shape: tuple) -> tuple[dict, str | None, str]:
    """Each leaf's output shape in a real forward pass (hooks), the leaf torch fails in, and torch's message."""
    shapes, entered = {}, []
    leaves = [(name, m) for name, m in model.named_modules() if not list(m.children())]
    handles = []
    for name, module in leaves:
        handles.append(module.register_forward_pre_hook(lambda m, i, name=name: entered.append(name)))
        handles.append(module.register_forward_hook(lambda m, i, o, name=name: shapes.__setitem__(name, tuple(o.shape))))
    model.train()
    try:
        with torch.no_grad():
            model(torch.zeros(shape))
        return shapes, None, ""
    except (RuntimeError, ValueError, IndexError) as exc:
        return shapes, entered[-1] if entered else None, str(exc)
    finally:
        for handle in handles:
            handle.remove()


def agree(model: nn.Module, shape: tuple):
    """debug_model on repr(model) gives torch's shapes and torch's broken layer (a suspect inside a custom module)."""
    report = debug_model(repr(model), shape)
    shapes, broken, _ = torch_forward(model, shape)
    assert (report.broken or report.suspect) == broken, (report.broken, broken, report.notes, repr(model))
    assert report.suspect is None or any("forward()" in note for note in report.notes)
    assert report.shapes == {name: s for name, s in shapes.items() if name in report.shapes}
    assert set(report.shapes) == set(shapes), (set(report.shapes) ^ set(shapes))
    return report


def lenet(in_features: int = 400, last_kernel: int | None = None) -> nn.Sequential:
    features = [nn.Conv2d(1, 6, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2)]
    if last_kernel:
        features += [nn.Conv2d(16, 120, last_kernel), nn.ReLU()]
    return nn.Sequential(OrderedDict(features=nn.Sequential(*features), flatten=nn.Flatten(),
                                     classifier=nn.Sequential(nn.Linear(in_features, 120), nn.ReLU(), nn.Linear(120, 10))))


def fix_number(fix: str, argument: str) -> int:
    return int(re.search(rf"{argument}=(\d+)", fix).group(1))


def test_the_sample_is_torchs_own_repr_of_a_lenet_with_the_wrong_in_features():
    features = [nn.Conv2d(1, 6, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2)]
    classifier = [nn.Linear(16 * 4 * 4, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10)]
    model = nn.Sequential(OrderedDict(features=nn.Sequential(*features), flatten=nn.Flatten(),
                                      classifier=nn.Sequential(*classifier)))
    assert SAMPLE_MODEL == repr(model)
    assert torch_forward(model, (1, 1, 32, 32))[1] == "classifier.0"
    report = debug_model(SAMPLE_MODEL, (1, 1, 32, 32))
    assert report.broken == "classifier.0" and fix_number(report.fix, "in_features") == 400
    assert report.torch_error == "RuntimeError: mat1 and mat2 shapes cannot be multiplied (1x400 and 256x120)"


@pytest.mark.parametrize("model, shape, broken, argument, number", [
    (lenet(256), (1, 1, 32, 32), "classifier.0", "in_features", 400),  # sized for 28×28 MNIST, fed 32×32
    (nn.Sequential(nn.Conv2d(3, 64, 3, padding=1), nn.ReLU(), nn.Conv2d(32, 64, 3)), (1, 3, 32, 32), "2",
     "in_channels", 64),
    (nn.Sequential(nn.Conv2d(1, 8, 3), nn.ReLU()), (1, 3, 28, 28), "0", "in_channels", 3),  # RGB into a grey model
    (nn.Sequential(nn.Conv2d(3, 16, 3), nn.BatchNorm2d(32)), (2, 3, 16, 16), "1", "num_features", 16),
    (nn.Sequential(nn.Conv2d(3, 16, 3), nn.Linear(16 * 14 * 14, 10)), (1, 3, 16, 16), "1", "in_features", 3136),
])
def test_classic_mistakes_break_where_torch_does_with_the_number_in_the_fix(model, shape, broken, argument, number):
    report = agree(model, shape)
    assert report.broken == broken and fix_number(report.fix, argument) == number
    if argument == "in_features" and len(report.shapes[list(report.shapes)[-1]]) > 2:
        assert "add nn.Flatten()" in report.fix


def test_input_too_small_names_the_kernel_the_poolings_and_the_size_that_works():
    report = agree(lenet(120, last_kernel=5), (1, 1, 28, 28))
    assert report.broken == "features.6"
    assert report.fix == "input too small for kernel 5 after 2 poolings: use 32×32 or remove a pool"
    assert torch_forward(lenet(120, last_kernel=5), (1, 1, 32, 32))[1] is None  # the size in the fix works
    deep = nn.Sequential(*[m for _ in range(3) for m in (nn.Conv2d(3, 3, 3), nn.MaxPool2d(2))], nn.Conv2d(3, 3, 5))
    report = agree(deep, (1, 3, 20, 20))
    size = int(re.search(r"use (\d+)×\1", report.fix).group(1))
    assert "after 2 poolings" in report.fix and torch_forward(deep, (1, 3, size, size))[1] is None
    assert torch_forward(deep, (1, 3, size - 1, size - 1))[1] is not None  # and it is the smallest


def test_the_layer_kinds_torch_prints_all_follow():
    model = nn.Sequential(
        nn.Conv2d(3, 8, 3, padding="same", padding_mode="reflect", dilation=2, bias=False), nn.BatchNorm2d(8),
        nn.LeakyReLU(0.2, inplace=True), nn.MaxPool2d(3, stride=2, padding=1, ceil_mode=True), nn.Dropout2d(0.1),
        nn.ConvTranspose2d(8, 4, 2, stride=2, output_padding=1), nn.GELU(approximate="tanh"), nn.SiLU(),
        nn.Upsample(scale_factor=2.0), nn.AvgPool2d(2), nn.AdaptiveAvgPool2d((6, 6)), nn.AdaptiveMaxPool2d(3),
        nn.Sigmoid(), nn.Tanh(), nn.Identity(), nn.Flatten(), nn.Linear(36, 32), nn.LayerNorm(32), nn.Dropout(0.3),
        nn.Unflatten(1, (2, 4, 4)), nn.Upsample(size=(8, 8), mode="bilinear"), nn.Flatten(), nn.Linear(128, 10),
        nn.Softmax(dim=1))
    report = agree(model, (2, 3, 24, 24))
    assert report.broken is None and report.output_shape == (2, 10) and not report.torch_error


def test_collapsed_module_lists_and_named_children_keep_torchs_dotted_names():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.stem = nn.Conv2d(3, 8, 3, padding=1)
            self.blocks = nn.ModuleList([nn.Sequential(nn.Conv2d(8, 8, 3, padding=1), nn.ReLU()) for _ in range(3)])
            self.pool = nn.AdaptiveAvgPool2d(1)
            self.head = nn.Linear(8, 10)

        def forward(self, x):
            x = self.stem(x)
            for block in self.blocks:
                x = block(x)
            return self.head(torch.flatten(self.pool(x), 1))

    assert "(0-2): 3 x Sequential(" in repr(Net())
    report = agree(Net(), (1, 3, 16, 16))
    assert report.output_shape == (1, 10) and "blocks.2.1" in report.shapes
    assert any("flatten is assumed before head" in n for n in report.notes)
    assert any("Printed order is not always forward order" in n for n in report.notes)


def test_a_custom_forward_is_a_suspect_not_a_break():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.features = nn.Sequential(nn.Conv2d(3, 16, 3), nn.ReLU(), nn.MaxPool2d(2))
            self.classifier = nn.Sequential(nn.Dropout(), nn.Linear(1000, 10))

        def forward(self, x):
            return self.classifier(torch.flatten(self.features(x), 1))

    report = debug_model(repr(Net()), (1, 3, 32, 32))
    assert report.broken is None and report.suspect == "classifier.1" == torch_forward(Net(), (1, 3, 32, 32))[1]
    assert fix_number(report.fix, "in_features") == 16 * 15 * 15


@pytest.mark.parametrize("child, stop", [("downsample", "1"), ("shortcut", "1")])
def test_a_second_path_stops_the_report_with_a_note_never_a_false_break(child, stop):
    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(8, 16, 3, stride=2, padding=1)
            self.bn1 = nn.BatchNorm2d(16)
            self.add_module(child, nn.Sequential(nn.Conv2d(8, 16, 1, stride=2), nn.BatchNorm2d(16)))

    report = debug_model(repr(nn.Sequential(nn.Conv2d(3, 8, 3), Block(), nn.Linear(5, 5))), (1, 3, 16, 16))
    assert report.broken is None and report.suspect is None and report.stopped_at == stop
    assert any(f"'{child}' child" in note for note in report.notes) and list(report.shapes) == ["0"]


def test_module_dicts_and_unknown_types_stop_and_are_named():
    report = debug_model(repr(nn.Sequential(nn.ReLU(), nn.ModuleDict({"a": nn.ReLU(), "b": nn.Tanh()}))), (1, 3, 8, 8))
    assert report.stopped_at == "1" and any("ModuleDict" in n for n in report.notes)
    report = debug_model(repr(nn.Sequential(nn.PixelShuffle(2))), (1, 4, 8, 8))
    assert report.stopped_at == "0" and any("PixelShuffle" in n for n in report.notes)


@pytest.mark.parametrize("model, shape", [
    (nn.Sequential(nn.ReLU(), nn.Conv1d(3, 4, 3), nn.Linear(3, 3)), (1, 3, 8)),
    (nn.Sequential(nn.Conv1d(1, 16, 80, stride=4), nn.ReLU(), nn.MaxPool1d(4), nn.Conv1d(16, 32, 3), nn.BatchNorm1d(32),
                   nn.AdaptiveAvgPool1d(1), nn.Flatten(), nn.Linear(16, 10)), (1, 1, 16000)),
    (nn.Sequential(nn.Conv3d(3, 8, 3, padding=1), nn.MaxPool3d(2), nn.BatchNorm3d(8), nn.AdaptiveAvgPool3d(1),
                   nn.Flatten(), nn.Linear(8, 4)), (1, 3, 8, 32, 32)),
    (nn.Sequential(nn.Conv3d(3, 8, 3), nn.MaxPool3d(2), nn.Conv3d(8, 8, 5)), (1, 3, 8, 16, 16)),
])
def test_1d_and_3d_models_follow_and_break_where_torch_does(model, shape):
    agree(model, shape)  # issue 13: the planner's 1-D and 3-D layers, each mapped from its printed class


def test_over_a_work_cap_stops_with_a_note_not_a_break():
    report = debug_model(repr(nn.Sequential(nn.Conv2d(3, 1024, 3, padding=1))), (16, 3, 1024, 1024))
    assert report.broken is None and report.stopped_at == "0" and any("work cap" in n for n in report.notes)


def test_the_planner_rows_follow_the_same_shapes():
    from conv_lab.network.plan import plan

    report = debug_model(repr(lenet(256)), (1, 1, 32, 32))
    result = plan(report.input_shape, report.rows)
    assert result.rows[result.broken - 1].index == report.row_names.index("classifier.0") + 1
    assert [r.out_shape for r in result.rows[:7]] == [report.shapes[n] for n in report.row_names[:7]]


@pytest.mark.parametrize("text, shape", [("1, 3, 32, 32", (1, 3, 32, 32)), ("torch.Size([2, 784])", (2, 784)),
                                         ("(1, 3, 8)", (1, 3, 8)), ("1x1x28x28", (1, 1, 28, 28)),
                                         ("1, 3, 16, 32, 32", (1, 3, 16, 32, 32))])
def test_input_shapes_are_read_from_text(text, shape):
    assert read_input_shape(text) == shape


@pytest.mark.parametrize("text", ["", "3", "1, 3, 8, 32, 32, 32", "1, a, 3", "0, 3, 32, 32", "1, 3, 99999, 9",
                                  "__import__('os')"])
def test_bad_input_shapes_are_plain_errors(text):
    with pytest.raises(ConvConfigError):
        read_input_shape(text)


# ---- random nested models -------------------------------------------------------------------------------------

def _draw_layer(draw, x: torch.Tensor) -> nn.Module:
    """One random layer for a tensor like `x`; one in ten gets a wrong channel or feature count."""
    wrong = draw(st.integers(0, 9)) == 0
    if x.dim() == 4:
        c = x.shape[1] + (draw(st.integers(1, 3)) if wrong else 0)
        choice = draw(st.sampled_from(["conv", "conv", "pool", "avg", "bn", "act", "up", "tconv", "adapt", "flat"]))
        if choice == "conv":
            return nn.Conv2d(c, draw(st.integers(1, 6)), draw(st.integers(1, 5)), stride=draw(st.integers(1, 2)),
                             padding=draw(st.integers(0, 2)))
        if choice == "tconv":
            return nn.ConvTranspose2d(c, draw(st.integers(1, 4)), draw(st.integers(1, 3)), stride=draw(st.integers(1, 2)))
        return {"pool": lambda: nn.MaxPool2d(draw(st.integers(2, 3)), padding=draw(st.integers(0, 1))),
                "avg": lambda: nn.AvgPool2d(draw(st.integers(2, 3))), "bn": lambda: nn.BatchNorm2d(c),
                "act": lambda: draw(st.sampled_from([nn.ReLU(), nn.GELU(), nn.Tanh(), nn.Dropout(), nn.Identity()])),
                "up": lambda: nn.Upsample(scale_factor=2.0), "adapt": lambda: nn.AdaptiveAvgPool2d(draw(st.integers(1, 4))),
                "flat": lambda: nn.Flatten()}[choice]()
    f = x.shape[-1] + (draw(st.integers(1, 5)) if wrong else 0)
    choice = draw(st.sampled_from(["linear", "linear", "act", "norm", "softmax"]))
    return {"linear": lambda: nn.Linear(f, draw(st.integers(1, 12))), "act": lambda: nn.SiLU(),
            "norm": lambda: nn.LayerNorm(f), "softmax": lambda: nn.Softmax(dim=1)}[choice]()


@st.composite
def random_model(draw):
    """A random stack drawn layer by layer on a real tensor (so most layers fit and some do not), nested at random
    into Sequentials."""
    shape = (draw(st.integers(1, 2)), draw(st.integers(1, 4)), draw(st.integers(3, 20)), draw(st.integers(3, 20)))
    x, layers = torch.zeros(shape), []
    for _ in range(draw(st.integers(1, 8))):
        layers.append(_draw_layer(draw, x))
        try:
            with torch.no_grad():
                x = layers[-1].train()(x)
        except (RuntimeError, ValueError):
            break
    while len(layers) > 1 and draw(st.booleans()):  # nest a random run of layers into a Sequential
        i = draw(st.integers(0, len(layers) - 1))
        j = draw(st.integers(i + 1, len(layers)))
        layers[i:j] = [Chain(*layers[i:j]) if draw(st.integers(0, 3)) == 0 else nn.Sequential(*layers[i:j])]
    return nn.Sequential(*layers), shape


class Chain(nn.Module):
    """A custom module whose forward() happens to run its children in printed order."""

    def __init__(self, *layers: nn.Module):
        super().__init__()
        for n, layer in enumerate(layers):
            self.add_module(f"layer{n}", layer)

    def forward(self, x):
        for layer in self.children():
            x = layer(x)
        return x


@settings(max_examples=n_examples(200, 50))
@given(random_model())
def test_random_printed_models_agree_with_a_real_forward_pass(drawn):
    model, shape = drawn
    report = agree(model, shape)
    event(f"broken: {type(model.get_submodule(report.broken)).__name__}" if report.broken else
          "suspect" if report.suspect else "works")
    if report.broken and re.search(r"(in_features|in_channels|num_features)=(\d+)", report.fix or ""):
        argument, number = re.search(r"(in_features|in_channels|num_features)=(\d+)", report.fix).groups()
        old = model.get_submodule(report.broken)
        fixed = {"in_features": lambda: nn.Linear(int(number), old.out_features),
                 "in_channels": lambda: nn.Conv2d(int(number), old.out_channels, old.kernel_size, old.stride,
                                                  old.padding),
                 "num_features": lambda: nn.BatchNorm2d(int(number))}[argument]
        if argument != "in_channels" or type(old) is nn.Conv2d:
            parent, _, child = report.broken.rpartition(".")
            setattr(model.get_submodule(parent) if parent else model, child, fixed())
            if "add nn.Flatten()" not in report.fix:  # the number in the fix cures what the fix was about
                fixed_report = agree(model, shape)
                assert fixed_report.broken != report.broken or argument not in (fixed_report.fix or "")


# ---- hostile pastes -------------------------------------------------------------------------------------------

def _no_evaluation(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("debug_model evaluated something")

    import ast

    for owner, name in ((builtins, "eval"), (builtins, "exec"), (builtins, "compile"), (ast, "literal_eval"),
                        (pickle, "loads")):
        monkeypatch.setattr(owner, name, refuse)


@pytest.mark.parametrize("text, words", [
    ("__import__('os').system('touch /tmp/convlab_pwned')", "more text after"),
    ("Sequential(\n  (0): Conv2d(3, 64, kernel_size=(3, 3)\n", "is missing"),
    ("Sequential(\n  (0): ReLU()\n))", "more text after"),
    ("Sequential(\n  (0): Conv2d(3, 64, kernel_size=(3, 3]\n)", "does not match"),
    ("x" * (limits.MAX_DEBUG_TEXT_CHARS + 1), "cap"),
    ("Séquentiel(\n  (0): ReLU()\n)", "expected '('"),
    ("", "empty"),
    ("import torch; model = nn.Sequential()", "expected '('"),
])
def test_hostile_pastes_give_plain_messages(monkeypatch, text, words):
    _no_evaluation(monkeypatch)
    with pytest.raises(ConvConfigError) as caught:
        debug_model(text, (1, 3, 32, 32))
    assert words in caught.value.why and "Traceback" not in str(caught.value)


def test_code_inside_a_printout_is_a_module_name_or_an_unreadable_argument(monkeypatch):
    _no_evaluation(monkeypatch)
    report = debug_model("Sequential(\n  (0): __import__('os')\n)", (1, 3, 8, 8))
    assert report.stopped_at == "0" and any("__import__" in n for n in report.notes)
    report = debug_model("Sequential(\n  (0): Conv2d(3, 8, kernel_size=open('/etc/passwd'))\n)", (1, 3, 8, 8))
    assert report.stopped_at == "0" and any("cannot be read" in n for n in report.notes)
    report = debug_model("Sequential(\n  (0): ReLU(inplace=Trüe)\n)", (1, 3, 8, 8))
    assert report.stopped_at == "0"


def test_deep_nesting_and_too_many_layers_are_capped():
    deep = nn.ReLU()
    for _ in range(limits.MAX_DEBUG_DEPTH + 5):
        deep = nn.Sequential(deep)
    with pytest.raises(ConvConfigError, match="nested"):
        debug_model(repr(deep), (1, 3, 8, 8))
    with pytest.raises(ConvConfigError, match="brackets"):
        debug_model("Sequential(\n  (0): ReLU(" + "(" * 100 + ")" * 100 + ")\n)", (1, 3, 8, 8))
    many = nn.Sequential(*[nn.ReLU() for _ in range(limits.MAX_DEBUG_LAYERS + 1)])
    with pytest.raises(ConvConfigError, match="more than"):
        debug_model(repr(many), (1, 3, 8, 8))
    collapsed = repr(nn.ModuleList([nn.ReLU() for _ in range(limits.MAX_DEBUG_LAYERS + 1)]))
    assert " x ReLU()" in collapsed
    with pytest.raises(ConvConfigError, match="more than"):
        debug_model(collapsed, (1, 3, 8, 8))


@settings(max_examples=n_examples(200, 60))
@given(st.data())
def test_cut_or_damaged_printouts_never_raise_anything_but_a_plain_error(data):
    text = repr(lenet(256, last_kernel=data.draw(st.sampled_from([None, 3]))))
    i = data.draw(st.integers(0, len(text)))
    j = data.draw(st.integers(i, min(len(text), i + 40)))
    junk = data.draw(st.text(max_size=6))
    damaged = text[:i] + junk + text[j:]
    try:
        report = debug_model(damaged, (1, 1, 32, 32))
    except ConvConfigError as exc:
        assert exc.why
    else:
        assert report.broken is None or report.fix


@settings(max_examples=n_examples(200, 60))
@given(st.text(max_size=300))
def test_any_text_gives_a_report_or_a_plain_error(text):
    try:
        debug_model(text, (1, 3, 16, 16))
    except ConvConfigError:
        pass
