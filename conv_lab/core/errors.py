"""The errors every part of Conv Lab raises: what is wrong, why, and a concrete fix, in plain words."""

from __future__ import annotations


class ConvConfigError(ValueError):
    """A configuration torch would reject (or that yields nothing), in plain words.

    >>> ConvConfigError("stride", "stride must be at least 1", "use stride 1").param
    'stride'
    """

    def __init__(self, param: str, why: str, fix: str = ""):
        self.param, self.why, self.fix = param, why, fix
        text = f"{param}: {why}"
        super().__init__(f"{text}: {fix}" if fix else text)

    def __reduce__(self):
        # Pickle by the three fields (render workers send errors back to the server process).
        return type(self), (self.param, self.why, self.fix)


class WorkCapError(ConvConfigError):
    """A layer torch could run, but not within one request's share of a shared server: it is never run.

    >>> isinstance(WorkCapError("input", "too big", "use less"), ConvConfigError)
    True
    """
