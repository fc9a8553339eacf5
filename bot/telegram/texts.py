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
        ("lang", "language: /lang ru or /lang en"),
        ("help", "all commands"),
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
    },
}

PLACE_CHOICES = ("Томская область", "Узбекистан", "Беларусь", "Казахстан", "Киргизия",
                 "Таджикистан", "Китай", "Монголия", "Центральная Азия", "Татарстан",
                 "Новосибирская область", "Кемеровская область", "Сибирь", "Россия")


def t(lang: str, key: str, **kwargs: object) -> str:
    table = TEXTS.get(lang, TEXTS["ru"])
    return table[key].format(**kwargs) if kwargs else table[key]
