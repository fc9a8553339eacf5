"""Inline keyboards that toggle choices (topics, places, names, outlets); chosen ones are
marked."""

from __future__ import annotations

from collections.abc import Sequence

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.keyboard import InlineKeyboardBuilder


class Toggle(CallbackData, prefix="tg"):
    kind: str  # "topic" | "place" (index in the list) | "name" | "mute" (a key of the value)
    index: int  # callback data is at most 64 bytes: never the value itself


class More(CallbackData, prefix="more"):
    offset: int  # the next page of the chat's last search


def toggle_keyboard(kind: str, choices: Sequence[tuple[str, str]], chosen: set[str],
                    columns: int = 2, *, keys: Sequence[int] | None = None,
                    mark: str = "✅ ") -> InlineKeyboardMarkup:
    """choices: (value, label) pairs; ``keys`` (one per choice) instead of positions."""
    builder = InlineKeyboardBuilder()
    for i, (value, label) in enumerate(choices):
        shown = f"{mark}{label}" if value in chosen else label
        builder.button(text=shown[:60], callback_data=Toggle(
            kind=kind, index=keys[i] if keys is not None else i))
    builder.adjust(columns)
    return builder.as_markup()


def more_keyboard(label: str, offset: int) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(text=label, callback_data=More(offset=offset))
    return builder.as_markup()
