"""The Dispatcher with every router, its dependencies, and the commands menu."""

from __future__ import annotations

from aiogram import Bot, Dispatcher
from aiogram.types import BotCommand, BotCommandScopeDefault

from bot.config import Settings
from bot.storage.db import Database
from bot.telegram.handlers import fallback, filters, settings, start
from bot.telegram.texts import COMMANDS


def build_dispatcher(db: Database, config: Settings) -> Dispatcher:
    dp = Dispatcher()
    dp["db"] = db
    dp["topics"] = config.topics
    for module in (start, filters, settings, fallback):  # fallback last
        dp.include_router(module.build_router())
    return dp


async def set_commands(bot: Bot) -> None:
    for lang, commands in COMMANDS.items():
        await bot.set_my_commands([BotCommand(command=c, description=d) for c, d in commands],
                                  scope=BotCommandScopeDefault(),
                                  language_code=None if lang == "ru" else lang)
