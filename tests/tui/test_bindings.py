"""Every key the app binds runs an action that exists: Textual looks an action up by name when
the key is pressed and does nothing when there is none (the dashboard's arrows were bound so to
a Textual `App` action a `Screen` does not have)."""

from __future__ import annotations

import importlib
import pkgutil

import pytest
from textual.binding import Binding
from textual.dom import DOMNode

import dxfield.tui
from dxfield.tui.app import DxfieldApp


def _classes() -> list[type[DOMNode]]:
    for module in pkgutil.walk_packages(dxfield.tui.__path__, "dxfield.tui."):
        importlib.import_module(module.name)
    found: list[type[DOMNode]] = []
    pending: list[type[DOMNode]] = [DOMNode]
    while pending:
        for sub in pending.pop().__subclasses__():
            pending.append(sub)
            if sub.__module__.startswith("dxfield.") and "BINDINGS" in vars(sub):
                found.append(sub)
    return found


def _bindings(owner: type[DOMNode]) -> list[tuple[str, str]]:
    pairs = []
    for binding in vars(owner)["BINDINGS"]:
        key, action = (
            (binding.key, binding.action)
            if isinstance(binding, Binding)
            else (binding[0], binding[1])
        )
        pairs.append((key, action))
    return pairs


CASES = [(owner, key, action) for owner in _classes() for key, action in _bindings(owner)]


def test_the_app_binds_keys() -> None:
    assert len(CASES) > 40


@pytest.mark.parametrize(
    ("owner", "key", "action"),
    CASES,
    ids=[f"{owner.__name__}-{key}" for owner, key, _ in CASES],
)
def test_a_bound_key_has_its_action(owner: type[DOMNode], key: str, action: str) -> None:
    name = action.split("(", 1)[0]
    target: type[DOMNode] = owner
    if name.startswith("app."):
        target, name = DxfieldApp, name.removeprefix("app.")
    elif "." in name:
        pytest.skip(f"{action}: another node's action, known only when the key is pressed")
    assert callable(getattr(target, f"action_{name}", None)), f"{owner.__name__}: {key} -> {action}"
