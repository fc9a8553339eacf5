"""The Dispatcher with every router, its dependencies, and the commands menu."""

from __future__ import annotations

from collections.abc import Callable

from aiogram import Bot, Dispatcher
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import BotCommand, BotCommandScopeChat, BotCommandScopeDefault

from bot.config import Settings
from bot.storage.store import Store
from bot.telegram.handlers import admin, errors, fallback, filters, settings, start, stories
from bot.telegram.permissions import ChatAdmins
from bot.telegram.texts import ADMIN_COMMANDS, COMMANDS
from bot.telegram.throttle import Throttle


def build_dispatcher(store: Store, config: Settings, *, wake: Callable[[], None] = lambda: None,
                     scheduler: object | None = None, charts: object | None = None
                     ) -> Dispatcher:
    """``wake`` tells the sender that messages were queued; ``scheduler`` (a SourceScheduler)
    lets admin commands add, pause and remove sources while the bot runs."""
    dp = Dispatcher()
    dp["store"] = store
    dp["settings"] = config
    dp["topics"] = config.topics
    dp["wake"] = wake
    dp["scheduler"] = scheduler
    if charts is None:  # trend charts for /trends (the web archive shares its cache)
        from bot.web.charts import TrendCharts

        charts = TrendCharts(store.db, config.topics)
    dp["charts"] = charts
    throttle = Throttle(config.telegram.commands_per_minute)
    admins = ChatAdmins(config.telegram.admins)
    for observer in (dp.message, dp.callback_query):  # in this order: throttle, then rights
        observer.outer_middleware(throttle)
        observer.outer_middleware(admins)
    for module in (errors, start, filters, settings, stories, admin, fallback):  # fallback last
        dp.include_router(module.build_router())
    return dp


async def set_commands(bot: Bot, admins: tuple[int, ...] = ()) -> None:
    for lang, commands in COMMANDS.items():
        code = None if lang == "ru" else lang
        await bot.set_my_commands([BotCommand(command=c, description=d) for c, d in commands],
                                  scope=BotCommandScopeDefault(), language_code=code)
    for chat_id in admins:  # admins see their commands too; a chat not yet met is skipped
        every = COMMANDS["ru"] + ADMIN_COMMANDS["ru"]
        try:
            await bot.set_my_commands([BotCommand(command=c, description=d) for c, d in every],
                                      scope=BotCommandScopeChat(chat_id=chat_id))
        except TelegramBadRequest:
            continue
