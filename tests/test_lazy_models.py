"""aiogram's models built on first use (bot/telegram/lazy_models.py) behave as if built at import.

Each check runs in a fresh interpreter, since the deferral must happen before aiogram is
first imported and this test process has imported it long ago.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

ROUND_TRIP = r"""
import json, sys
from bot.telegram.lazy_models import defer_aiogram_models
deferred = defer_aiogram_models() if sys.argv[1] == "lazy" else False
import aiogram.types as T
from aiogram.methods import AnswerCallbackQuery, EditMessageText, SendMessage
from aiogram.methods.base import Response
out = {"deferred": deferred, "complete_before": T.Message.__pydantic_complete__}
update = T.Update.model_validate({
    "update_id": 7,
    "message": {"message_id": 3, "date": 1700000000,
                "chat": {"id": 42, "type": "private", "first_name": "Анна"},
                "from": {"id": 42, "is_bot": False, "first_name": "Анна", "language_code": "ru"},
                "text": "/topics", "entities": [{"type": "bot_command", "offset": 0, "length": 7}],
                "reply_to_message": {"message_id": 2, "date": 1700000000,
                                     "chat": {"id": 42, "type": "private"}}},
})
callback = T.Update.model_validate({
    "update_id": 8,
    "callback_query": {"id": "c1", "chat_instance": "ci", "data": "topic:trade",
                       "from": {"id": 42, "is_bot": False, "first_name": "Анна"},
                       "message": {"message_id": 5, "date": 1700000000,
                                   "chat": {"id": 42, "type": "private"}, "text": "Темы"}},
})
keyboard = T.InlineKeyboardMarkup(inline_keyboard=[[
    T.InlineKeyboardButton(text="Торговля ✓", callback_data="topic:trade")]])
methods = [
    SendMessage(chat_id=42, text="<b>Новость</b>", reply_markup=keyboard,
                link_preview_options=T.LinkPreviewOptions(is_disabled=True)),
    EditMessageText(chat_id=42, message_id=5, text="Темы", reply_markup=keyboard),
    AnswerCallbackQuery(callback_query_id="c1", text="Готово"),
]
sent = Response[T.Message].model_validate_json(json.dumps({"ok": True, "result": {
    "message_id": 9, "date": 1700000000, "chat": {"id": 42, "type": "private"},
    "text": "Новость"}}))
out["update"] = update.model_dump(mode="json", exclude_none=True)
out["callback"] = callback.model_dump(mode="json", exclude_none=True)
out["methods"] = [m.model_dump(exclude_none=True) for m in methods]
out["sent"] = sent.model_dump(mode="json", exclude_none=True)
print(json.dumps(out, ensure_ascii=False, default=str))
"""

BUILD_ALL = r"""
from pydantic_core import SchemaSerializer, SchemaValidator
from bot.telegram.lazy_models import defer_aiogram_models
assert defer_aiogram_models()
import aiogram.methods as M
import aiogram.types as T
built = 0
for module in (T, M):
    for name in module.__all__:
        model = getattr(module, name)
        if not (isinstance(model, type) and hasattr(model, "model_rebuild")):
            continue
        if model.__pydantic_generic_metadata__["parameters"]:
            continue  # generic bases (TelegramMethod[T]) are built per parameter
        model.model_rebuild(raise_errors=True)
        assert model.__pydantic_complete__, name
        assert isinstance(model.__pydantic_validator__, SchemaValidator), name
        assert isinstance(model.__pydantic_serializer__, SchemaSerializer), name
        built += 1
print(built)
"""


def _python(code: str, *args: str) -> str:
    done = subprocess.run([sys.executable, "-c", code, *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def test_lazy_models_validate_and_serialise_as_eager_ones() -> None:
    lazy = json.loads(_python(ROUND_TRIP, "lazy"))
    eager = json.loads(_python(ROUND_TRIP, "eager"))
    assert lazy.pop("deferred") is True and lazy.pop("complete_before") is False
    assert eager.pop("deferred") is False and eager.pop("complete_before") is True
    assert lazy == eager
    assert lazy["callback"]["callback_query"]["data"] == "topic:trade"
    assert lazy["methods"][0]["reply_markup"]["inline_keyboard"][0][0]["text"] == "Торговля ✓"


def test_every_type_and_method_still_builds() -> None:
    assert int(_python(BUILD_ALL)) > 500


def test_too_late_once_aiogram_is_imported() -> None:
    out = _python("import aiogram\nfrom bot.telegram.lazy_models import defer_aiogram_models\n"
                  "print(defer_aiogram_models())")
    assert out.strip() == "False"
