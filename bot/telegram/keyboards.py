"""Inline keyboards for choosing topics and places; chosen ones are marked ✅."""

from __future__ import annotations

from collections.abc import Sequence

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.keyboard import InlineKeyboardBuilder


class Toggle(CallbackData, prefix="tg"):
    kind: str  # "topic" | "place"
    index: int  # position in the list of choices (callback data is at most 64 bytes)


def toggle_keyboard(kind: str, choices: Sequence[tuple[str, str]], chosen: set[str],
                    columns: int = 2) -> InlineKeyboardMarkup:
    """choices: (value, label) pairs."""
    builder = InlineKeyboardBuilder()
    for i, (value, label) in enumerate(choices):
        mark = "✅ " if value in chosen else ""
        builder.button(text=f"{mark}{label}", callback_data=Toggle(kind=kind, index=i))
    builder.adjust(columns)
    return builder.as_markup()
