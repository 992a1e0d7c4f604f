"""Context keys: a digest of everything one output file is rendered from, bar the templates.

A rendered file is a function of its template (and the templates and filters that one
uses), its output format, the inventory file's name (the header) and its context. The
templates and filters are fingerprinted as a whole in the manifest's inputs (infragen's
code, the overrides beside the inventory); the rest is the context key. A render whose
inputs fingerprint as the last one did reuses every file whose key is the one recorded
(and whose bytes in `out/` are the ones written): it is neither rendered nor validated.

The key digests the context as pickle writes it, so it captures every value a template can
reach (objects pickle their state; functions and classes pickle as names, which the code
fingerprint covers). A context pickle cannot write (a closure, a generator) has no key and
is always rendered. Pydantic models are written as their field values only: their pickled
state also holds the set of fields given, whose order varies from run to run.

A render keys every file (12,400 at 1,000 hosts), most of them small: each thread keeps
one pickler and its buffer for all its keys, and the digest is SHA-256 (cut to 160 bits),
which this machine's CPUs compute in hardware. Keys need not match another infragen's:
the manifest records the code, and another code renders everything anyway.
"""

from __future__ import annotations

import hashlib
import io
import pickle
import threading
from typing import Any

from pydantic import BaseModel

from infragen.targets import OutputFile


def model_fields(kind: str, values: tuple[Any, ...], private: Any) -> None:
    """Stands for a pydantic model in a context key; never called (keys are not loaded)."""


class _KeyPickler(pickle.Pickler):
    def reducer_override(self, obj: Any) -> Any:
        if isinstance(obj, BaseModel):
            kind = f"{type(obj).__module__}.{type(obj).__qualname__}"
            return model_fields, (kind, tuple(obj.__dict__.items()), obj.__pydantic_private__)
        return NotImplemented


class _Keys(threading.local):
    """One pickler and its buffer per thread, reused for every key it takes (a dump
    starts from an empty frame, and a failed one leaves no state behind)."""

    def __init__(self) -> None:
        self.buffer = io.BytesIO()
        self.pickler = _KeyPickler(self.buffer, protocol=5)
        # No memo: with one, an object met twice is written once and then referred to, so
        # the bytes would depend on which equal strings happen to be one object.
        self.pickler.fast = True


_keys = _Keys()


def context_key(output: OutputFile, source: str) -> str | None:
    """The key of `output` rendered under an inventory file named `source`, or None."""
    buffer = _keys.buffer
    buffer.seek(0)
    buffer.truncate()
    try:
        _keys.pickler.dump((source, output.template, output.format, output.context))
    except (pickle.PicklingError, TypeError, AttributeError, ValueError, RecursionError):
        return None  # a cycle (no memo), a closure, a generator: always rendered
    return hashlib.sha256(buffer.getvalue()).hexdigest()[:40]
