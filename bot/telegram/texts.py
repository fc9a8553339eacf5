"""What the bot says, in Russian (default) and English (/lang en)."""

from __future__ import annotations

COMMANDS = {
    "ru": [
        ("start", "подписаться и начать"),
        ("stop", "приостановить рассылку (фильтры сохранятся)"),
        ("forget", "удалить все данные об этом чате"),
        ("topics", "выбрать темы"),
        ("places", "выбрать места"),
        ("follow", "следить за словом или именем: /follow химия"),
        ("unfollow", "перестать следить: /unfollow химия"),
        ("exclude", "исключить слово: /exclude спорт"),
        ("filters", "показать все фильтры"),
        ("mode", "instant — сразу, digest — дайджестом"),
        ("time", "время дайджеста: /time 09:00"),
        ("tz", "часовой пояс: /tz Asia/Tomsk или /tz UTC+7"),
        ("digest", "прислать дайджест сейчас"),
        ("search", "найти сюжеты в архиве: /search редкоземельные металлы"),
        ("sources", "источники и их состояние"),
        ("lang", "язык: /lang ru или /lang en"),
        ("help", "все команды"),
    ],
    "en": [
        ("start", "subscribe and begin"),
        ("stop", "pause delivery (filters are kept)"),
        ("forget", "delete everything stored about this chat"),
        ("topics", "choose topics"),
        ("places", "choose places"),
        ("follow", "follow a word or name: /follow chemistry"),
        ("unfollow", "stop following: /unfollow chemistry"),
        ("exclude", "exclude a word: /exclude sport"),
        ("filters", "show all filters"),
        ("mode", "instant or digest delivery"),
        ("time", "digest time: /time 09:00"),
        ("tz", "time zone: /tz Asia/Tomsk or /tz UTC+7"),
        ("digest", "send the digest now"),
        ("search", "search the archive: /search rare earth metals"),
        ("sources", "sources and their health"),
        ("lang", "language: /lang ru or /lang en"),
        ("help", "all commands"),
    ],
}

ADMIN_COMMANDS = {
    "ru": [
        ("stats", "статистика (для администраторов)"),
        ("addsource", "добавить ленту: /addsource https://example.ru/rss"),
        ("removesource", "удалить источник: /removesource 12"),
        ("pausesource", "приостановить или возобновить источник: /pausesource 12"),
    ],
    "en": [
        ("stats", "statistics (admins)"),
        ("addsource", "add a feed: /addsource https://example.com/rss"),
        ("removesource", "remove a source: /removesource 12"),
        ("pausesource", "pause or resume a source: /pausesource 12"),
    ],
}

TEXTS = {
    "ru": {
        "welcome": "Здравствуйте! Я слежу за пресс-релизами и новостями региона: один раз "
                   "сообщаю о каждом сюжете, даже если его перепечатали десять изданий, с "
                   "кратким пересказом и ключевыми цифрами.\n\nВыберите /topics и /places, "
                   "добавьте слова через /follow — или ничего не выбирайте, и я буду присылать "
                   "всё. /mode digest — получать дайджест раз в день. /help — все команды.",
        "stopped": "Рассылка приостановлена, фильтры сохранены. /start — возобновить.",
        "forgotten": "Все данные об этом чате удалены. /start — подписаться снова.",
        "help": "Команды:",
        "topics": "Темы (нажмите, чтобы включить или выключить):",
        "places": "Места (нажмите, чтобы включить или выключить):",
        "on": "Включено: {name}",
        "off": "Выключено: {name}",
        "follow_usage": "Напишите слово или имя: /follow химия",
        "followed": "Слежу за «{word}».",
        "unfollowed": "Больше не слежу за «{word}».",
        "excluded": "Исключено: «{word}».",
        "bad_word": "Нужно слово или фраза до 60 символов из букв, цифр, пробелов и дефисов.",
        "filters": "Ваши фильтры:",
        "no_filters": "Фильтров нет: присылаю все сюжеты.",
        "f_topic": "Темы", "f_place": "Места", "f_follow": "Слова", "f_exclude": "Исключения",
        "mode_set": "Режим: {mode}.",
        "mode_usage": "Напишите /mode instant (сразу) или /mode digest (раз в день).",
        "time_set": "Дайджест будет приходить в {time}.",
        "time_usage": "Напишите время так: /time 09:00",
        "tz_set": "Часовой пояс: {tz}.",
        "tz_usage": "Напишите часовой пояс так: /tz Asia/Tomsk или /tz UTC+7",
        "lang_set": "Язык: русский.",
        "lang_usage": "Напишите /lang ru или /lang en",
        "unknown": "Не знаю такой команды. /help — список команд.",
        "not_command": "Я понимаю команды. /help — список команд.",
        "paused_note": "Рассылка сейчас приостановлена: /start — возобновить.",
        "digest_none": "Нового с прошлого дайджеста нет.",
        "digest_queued": "Дайджест: сюжетов — {n}, отправляю.",
        "search_usage": "Напишите, что искать: /search редкоземельные металлы",
        "search_none": "Ничего не нашлось.",
        "search_head": "Найдено в архиве:",
        "sources_head": "Источники:",
        "src_ok": "работает", "src_failing": "ошибки ({n} подряд): {error}",
        "src_paused": "приостановлен", "src_new": "ещё не опрашивался",
        "src_last": "последний успешный опрос {at} UTC",
        "admin_only": "Эта команда только для администраторов бота.",
        "stats": "Статей: {articles}, сюжетов: {stories}, перепечаток: {reprints}.\n"
                 "Подписчиков: {active} активных, {paused} на паузе, {gone} недоступны.\n"
                 "В очереди сообщений: {outbox}. Отправлено за сутки: {sent_day}."
                 " Не удалось отправить: {failed}.\n"
                 "Источников: {sources}, с ошибками: {failing}.",
        "addsource_usage": "Напишите адрес ленты: /addsource https://example.ru/rss",
        "addsource_bad": "Не могу добавить: {error}",
        "addsource_ok": "Добавлен источник #{id} {name}: записей в ленте — {entries}.",
        "addsource_exists": "Этот адрес уже есть: источник #{id} {name}.",
        "source_usage": "Напишите номер или имя источника из /sources: /{command} 12",
        "source_unknown": "Нет такого источника. /sources — список.",
        "source_removed": "Источник #{id} {name} удалён; его статьи остаются в архиве.",
        "source_in_config": "Источник #{id} {name} задан в файле настроек: удалите его там "
                            "(до перезапуска его можно приостановить: /pausesource {id}).",
        "source_paused": "Источник #{id} {name} приостановлен.",
        "source_resumed": "Источник #{id} {name} снова опрашивается.",
        "slow_down": "Слишком много команд подряд — подождите немного.",
        "admins_only": "Настройки этого чата меняют только его администраторы.",
        "failed": "Не получилось: что-то сломалось у меня. Попробуйте позже.",
    },
    "en": {
        "welcome": "Hello! I follow the region's press releases and news and tell you about "
                   "each story once, even when ten outlets reprint it, with a short summary and "
                   "the key figures.\n\nPick /topics and /places, add words with /follow — or "
                   "pick nothing and get everything. /mode digest for one daily digest. /help "
                   "lists every command.",
        "stopped": "Delivery paused; your filters are kept. /start resumes.",
        "forgotten": "Everything about this chat is deleted. /start subscribes again.",
        "help": "Commands:",
        "topics": "Topics (tap to turn on or off):",
        "places": "Places (tap to turn on or off):",
        "on": "On: {name}",
        "off": "Off: {name}",
        "follow_usage": "Send a word or a name: /follow chemistry",
        "followed": "Following “{word}”.",
        "unfollowed": "No longer following “{word}”.",
        "excluded": "Excluded: “{word}”.",
        "bad_word": "I need a word or phrase of up to 60 letters, digits, spaces and hyphens.",
        "filters": "Your filters:",
        "no_filters": "No filters: you get every story.",
        "f_topic": "Topics", "f_place": "Places", "f_follow": "Words", "f_exclude": "Excluded",
        "mode_set": "Mode: {mode}.",
        "mode_usage": "Send /mode instant (at once) or /mode digest (daily).",
        "time_set": "The digest will come at {time}.",
        "time_usage": "Send the time like this: /time 09:00",
        "tz_set": "Time zone: {tz}.",
        "tz_usage": "Send the time zone like this: /tz Asia/Tomsk or /tz UTC+7",
        "lang_set": "Language: English.",
        "lang_usage": "Send /lang ru or /lang en",
        "unknown": "I don't know that command. /help lists them.",
        "not_command": "I understand commands. /help lists them.",
        "paused_note": "Delivery is paused: /start resumes it.",
        "digest_none": "Nothing new since the last digest.",
        "digest_queued": "Digest: {n} stories, sending.",
        "search_usage": "Send what to look for: /search rare earth metals",
        "search_none": "Nothing found.",
        "search_head": "Found in the archive:",
        "sources_head": "Sources:",
        "src_ok": "working", "src_failing": "failing ({n} in a row): {error}",
        "src_paused": "paused", "src_new": "not polled yet",
        "src_last": "last good poll {at} UTC",
        "admin_only": "This command is for the bot's admins only.",
        "stats": "Articles: {articles}, stories: {stories}, reprints: {reprints}.\n"
                 "Subscribers: {active} active, {paused} paused, {gone} unreachable.\n"
                 "Messages queued: {outbox}. Sent in the last day: {sent_day}."
                 " Failed: {failed}.\n"
                 "Sources: {sources}, failing: {failing}.",
        "addsource_usage": "Send the feed's address: /addsource https://example.com/rss",
        "addsource_bad": "Cannot add it: {error}",
        "addsource_ok": "Added source #{id} {name}: {entries} entries in the feed.",
        "addsource_exists": "That address is already a source: #{id} {name}.",
        "source_usage": "Send the number or name of a source from /sources: /{command} 12",
        "source_unknown": "No such source. /sources lists them.",
        "source_removed": "Source #{id} {name} removed; its articles stay in the archive.",
        "source_in_config": "Source #{id} {name} is set in the config file: remove it there "
                            "(until a restart you can pause it: /pausesource {id}).",
        "source_paused": "Source #{id} {name} paused.",
        "source_resumed": "Source #{id} {name} is polled again.",
        "slow_down": "Too many commands in a row: please wait a little.",
        "admins_only": "Only this chat's administrators change its settings.",
        "failed": "That did not work: something broke on my side. Please try again later.",
    },
}

PLACE_CHOICES = ("Томская область", "Узбекистан", "Беларусь", "Казахстан", "Киргизия",
                 "Таджикистан", "Китай", "Монголия", "Центральная Азия", "Татарстан",
                 "Новосибирская область", "Кемеровская область", "Сибирь", "Россия")


def t(lang: str, key: str, **kwargs: object) -> str:
    table = TEXTS.get(lang, TEXTS["ru"])
    return table[key].format(**kwargs) if kwargs else table[key]
