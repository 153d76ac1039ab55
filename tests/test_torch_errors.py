"""Explain torch's own shape errors: each message is produced by real torch here, never written by hand."""

from __future__ import annotations

import traceback

import pytest
import torch
from torch import nn

from conv_lab.network.debug import debug_model
from conv_lab.network.torch_errors import explain_torch_error
from conv_lab.network.view import SAMPLE_MODEL


def torch_message(run) -> str:
    """The traceback text a notebook shows for what `run` raises."""
    try:
        with torch.no_grad():
            run()
    except (RuntimeError, ValueError):
        return traceback.format_exc()
    raise AssertionError("torch did not raise")


def _cat():
    return torch.cat([torch.zeros(1, 8, 16, 16), torch.zeros(1, 8, 15, 15)], dim=1)


CASES = [
    (lambda: nn.Linear(1024, 10)(torch.zeros(1, 2304)), ["in_features=1024", "**2304**", "in_features=2304"]),
    (lambda: nn.Linear(1024, 10)(torch.zeros(1, 16, 5, 5)), ["80×5", "nn.Flatten()"]),
    (lambda: nn.Conv2d(1, 64, 3)(torch.zeros(1, 3, 32, 32)), ["**1** input channels", "**3** channels",
                                                              "in_channels=3", "greyscale"]),
    (lambda: nn.Conv2d(16, 64, 3, groups=2)(torch.zeros(1, 3, 32, 32)), ["in_channels=3", "groups=2"]),
    (lambda: nn.ConvTranspose2d(4, 8, 2)(torch.zeros(1, 3, 4, 4)), ["ConvTranspose2d", "in_channels=3"]),
    (lambda: nn.Conv2d(16, 64, 3)(torch.zeros(1, 16, 2, 2)), ["**3×3** kernel", "**2×2**"]),
    (lambda: nn.Conv2d(16, 64, (3, 5))(torch.zeros(1, 16, 2, 9)), ["**3×5** kernel", "**2×9**"]),
    (lambda: nn.MaxPool2d(2)(torch.zeros(1, 16, 1, 1)), ["16×1×1", "16×0×0"]),
    (_cat, ["dimension 1", "**16**", "**15**", "15 → 7 → 14"]),
    (lambda: torch.zeros(1, 8, 16, 16) + torch.zeros(1, 8, 15, 15), ["width are **16** and **15**"]),
    (lambda: nn.BatchNorm2d(32)(torch.zeros(2, 16, 4, 4)), ["**32** channels", "BatchNorm2d(16)"]),
    (lambda: nn.BatchNorm2d(32).train()(torch.zeros(1, 32, 1, 1)), ["[1, 32, 1, 1]", "batch of 2"]),
    (lambda: nn.LayerNorm(64)(torch.zeros(2, 32)), ["[64]", "LayerNorm([32])"]),
    (lambda: nn.Conv2d(3, 8, 3)(torch.zeros(1, 3072)), ["conv2d", "[1, 3072]", "before Flatten"]),
]


@pytest.mark.parametrize("run, words", CASES)
def test_each_message_is_explained_with_its_numbers(run, words):
    text = torch_message(run)
    explained = explain_torch_error(text)
    assert explained, text
    for word in words:
        assert word in explained, (word, explained)
    last_line = text.strip().splitlines()[-1]
    assert explain_torch_error(last_line) == explained  # the message alone, or the whole traceback


def test_the_brief_s_messages_word_for_word():
    assert "**2304**" in explain_torch_error("mat1 and mat2 shapes cannot be multiplied (1x2304 and 1024x10)")
    assert "in_channels=3" in explain_torch_error(
        "expected input[1, 3, 32, 32] to have 1 channels, but got 3 channels instead")
    assert "**2×2**" in explain_torch_error("Calculated padded input size per channel: (2 x 2). Kernel size: (3 x 3). "
                                            "Kernel size can't be greater than actual input size")
    assert "**15**" in explain_torch_error("Sizes of tensors must match except in dimension 1. Expected size 16 but "
                                           "got size 15 for tensor number 1 in the list.")


def test_with_a_pasted_model_the_likely_layer_is_named():
    report = debug_model(SAMPLE_MODEL, (1, 1, 32, 32))
    explained = explain_torch_error(report.torch_error, report)
    assert "**classifier.0 (Linear)**" in explained and "in_features=400" in explained
    model = nn.Sequential(nn.Conv2d(1, 8, 3), nn.ReLU(), nn.Conv2d(8, 4, 3))
    report = debug_model(repr(model), (1, 3, 28, 28))
    text = torch_message(lambda: model(torch.zeros(1, 3, 28, 28)))
    assert report.torch_error in text  # the report carries torch's own CPU message
    assert "**model[0] (Conv2d)**" in explain_torch_error(text, report)
    assert "no layer has these numbers" in explain_torch_error(
        torch_message(lambda: nn.Linear(7, 3)(torch.zeros(1, 5))), report)


def test_a_cat_error_with_a_model_names_the_layers_of_those_sizes():
    model = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.MaxPool2d(2), nn.Upsample(scale_factor=2.0))
    report = debug_model(repr(model), (1, 1, 15, 15))
    explained = explain_torch_error(torch_message(
        lambda: torch.cat([torch.zeros(1, 4, 15, 15), model(torch.zeros(1, 1, 15, 15))], 1)), report)
    assert "forward()" in explained and "model[0]" in explained.split("wide:")[1]


@pytest.mark.parametrize("text", ["", "hello", "RuntimeError: CUDA out of memory", "x" * 300_000, None, 42,
                                  "mat1 and mat2 shapes cannot be multiplied (1x99999999999999999999 and 3x4)" * 2])
def test_other_text_is_not_a_known_error_and_never_raises(text):
    result = explain_torch_error(text)
    assert result is None or isinstance(result, str)
