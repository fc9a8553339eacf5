"""Build aiogram's pydantic models when first used instead of all at import (-100 MB).

aiogram declares its ~440 Bot API types with pydantic's ``defer_build=True`` and then, at the
end of ``aiogram/types/__init__.py``, calls ``model_rebuild()`` on every one of them so that
their forward references resolve; in pydantic 2 an explicit ``model_rebuild()`` builds the
validator at once, so the deferral is undone and importing aiogram costs ~155 MB of RSS, most
of it pydantic-core validators (each model's carries the whole graph of models it contains)
for types a news bot never sees (payments, stickers, business accounts, ...). See
https://github.com/aiogram/aiogram/issues/1513.

``defer_aiogram_models()`` restores the intent: while aiogram is imported, that one bulk
``model_rebuild(_types_namespace=...)`` call leaves deferred models alone, and every aiogram
model is given the Bot API types namespace as its parent namespace, so that pydantic's own
rebuild on first use (validating an update, sending a method) resolves the forward references
of the model and of every model nested in it. Nothing else of pydantic or aiogram changes:
models are built by pydantic, with aiogram's configuration, only later. The methods, which
reference the not yet built types, are deferred the same way.

Call it before anything imports aiogram; afterwards (or if aiogram is already imported) it
does nothing. ``tests/test_lazy_models.py`` builds every type and method afterwards, so an
aiogram release that breaks this shows up as a failing test, not as a bot that cannot parse
an update.
"""

from __future__ import annotations

import sys
from typing import Any

_done = False


def defer_aiogram_models() -> bool:
    """Import aiogram with its models' building deferred; False if it was too late."""
    global _done
    if _done:
        return True
    if "aiogram" in sys.modules:
        return False
    from pydantic import BaseModel

    original = BaseModel.__dict__["model_rebuild"]
    namespaces: list[Any] = []

    def model_rebuild(cls: type[BaseModel], *, _types_namespace: Any = None,
                      **kwargs: Any) -> bool | None:
        if (_types_namespace is not None and not kwargs
                and cls.__module__.startswith("aiogram.")
                and cls.model_config.get("defer_build")):
            if not namespaces:
                namespaces.append(_types_namespace)
            return None
        return original.__func__(cls, _types_namespace=_types_namespace, **kwargs)

    BaseModel.model_rebuild = classmethod(model_rebuild)  # type: ignore[assignment]
    try:
        import aiogram
        import aiogram.methods
        import aiogram.types  # noqa: F401
    finally:
        BaseModel.model_rebuild = original  # type: ignore[method-assign]
    if namespaces:
        types_namespace = dict(namespaces[0])
        for model in _aiogram_models(BaseModel):
            if model.__pydantic_parent_namespace__ is None:
                model.__pydantic_parent_namespace__ = types_namespace
    _done = True
    return True


def _aiogram_models(base: type) -> list[type]:
    found: list[type] = []
    stack = list(base.__subclasses__())
    seen: set[type] = set()
    while stack:
        cls = stack.pop()
        if cls in seen:
            continue
        seen.add(cls)
        stack.extend(cls.__subclasses__())
        if cls.__module__.startswith("aiogram."):
            found.append(cls)
    return found
