"""What the bot says, in Russian (default) and English (/lang en): one language at a time.

Every user-visible string is here, errors of fetching and of /addsource included
(``error_text`` turns the one-line reasons of the ingest layer into the chat's language).
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Sequence

from bot.delivery.alerts import NETWORK_DOWN, NETWORK_UP, SOURCE_DOWN, SOURCE_UP, Alert
from bot.models import Chat, FilterValues

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
        ("unexclude", "вернуть исключённое слово: /unexclude спорт"),
        ("people", "люди и организации недели: следить одним нажатием"),
        ("outlets", "издания: отключить ненужные"),
        ("clear", "очистить фильтр: /clear topics, places, words, excluded или outlets"),
        ("filters", "что я присылаю: все фильтры словами"),
        ("settings", "режим, время, часовой пояс, язык, тихие часы"),
        ("mode", "instant — сразу, digest — дайджестом раз в день"),
        ("time", "время дайджеста: /time 9 или /time 09:30"),
        ("tz", "часовой пояс: /tz Asia/Tomsk или /tz UTC+7"),
        ("quiet", "тихие часы без звука: /quiet 22:00-08:00, /quiet off"),
        ("digest", "прислать дайджест сейчас"),
        ("search", "найти сюжеты в архиве: /search редкоземельные металлы"),
        ("sources", "источники и их состояние"),
        ("trends", "графики: сюжеты по темам и местам за 12 недель"),
        ("lang", "язык: /lang ru или /lang en"),
        ("help", "все команды"),
    ],
    "en": [
        ("start", "subscribe and begin"),
        ("stop", "pause delivery (filters are kept)"),
        ("forget", "delete everything stored about this chat"),
        ("topics", "choose topics"),
        ("places", "choose places"),
        ("follow", "follow a word or name, in Russian as the news is: /follow химия"),
        ("unfollow", "stop following: /unfollow химия"),
        ("exclude", "exclude a word: /exclude спорт"),
        ("unexclude", "take a word off the excluded: /unexclude спорт"),
        ("people", "people and organisations of the week: follow with one tap"),
        ("outlets", "outlets: mute the ones you do not want"),
        ("clear", "clear a filter: /clear topics, places, words, excluded or outlets"),
        ("filters", "what I send: every filter in words"),
        ("settings", "mode, time, time zone, language, quiet hours"),
        ("mode", "instant: at once; digest: once a day"),
        ("time", "digest time: /time 9 or /time 09:30"),
        ("tz", "time zone: /tz Asia/Tomsk or /tz UTC+7"),
        ("quiet", "quiet hours, no sound: /quiet 22:00-08:00, /quiet off"),
        ("digest", "send the digest now"),
        ("search", "search the archive (in Russian): /search редкоземельные металлы"),
        ("sources", "sources and their health"),
        ("trends", "charts: stories per topic and place over 12 weeks"),
        ("lang", "language: /lang ru or /lang en"),
        ("help", "all commands"),
    ],
}

ADMIN_COMMANDS = {
    "ru": [
        ("stats", "статистика (для администраторов)"),
        ("addsource", "добавить ленту или сайт: /addsource https://example.ru 30m Название"),
        ("removesource", "удалить источник: /removesource 12"),
        ("pausesource", "приостановить или возобновить источник: /pausesource 12"),
        ("renamesource", "переименовать источник: /renamesource 12 Новое имя"),
        ("export", "все источники файлом OPML"),
    ],
    "en": [
        ("stats", "statistics (admins)"),
        ("addsource", "add a feed or a site: /addsource https://example.com 30m Name"),
        ("removesource", "remove a source: /removesource 12"),
        ("pausesource", "pause or resume a source: /pausesource 12"),
        ("renamesource", "rename a source: /renamesource 12 New name"),
        ("export", "every source as an OPML file"),
    ],
}

TEXTS = {
    "ru": {
        "welcome": "Здравствуйте! Я слежу за пресс-релизами и новостями региона: один раз "
                   "сообщаю о каждом сюжете, даже если его перепечатали десять изданий, с "
                   "кратким пересказом и ключевыми цифрами.\n\nВыберите /topics и /places, "
                   "добавьте слова через /follow — или ничего не выбирайте, и я буду присылать "
                   "всё. Фильтры сужают выбор: тема, и место, и слово — все сразу. "
                   "/mode digest — получать дайджест раз в день. /help — все команды.",
        "stopped": "Рассылка приостановлена, фильтры сохранены. /start — возобновить.",
        "forgotten": "Все данные об этом чате удалены. /start — подписаться снова.",
        "help": "Фильтры сужают выбор: я присылаю сюжеты, где есть любая из выбранных тем, "
                "и любое из выбранных мест, и любое из слов (если они заданы), кроме "
                "исключённых. Ничего не выбрано — присылаю всё.\n\nКоманды:",
        "topics": "Темы (нажмите, чтобы включить или выключить):",
        "places": "Места (нажмите, чтобы включить или выключить):",
        "people": "Люди и организации недели (нажмите, чтобы следить):",
        "people_none": "За неделю в архиве не нашлось имён.",
        "outlets": "Издания (нажмите, чтобы отключить или включить):",
        "outlets_none": "Источников пока нет.",
        "muted": "Отключено: {name}",
        "unmuted": "Снова включено: {name}",
        "list_changed": "Список обновился: пришлите команду ещё раз.",
        "on": "Включено: {name}",
        "off": "Выключено: {name}",
        "follow_usage": "Напишите слово или имя: /follow химия",
        "followed": "Слежу за «{word}».",
        "unfollowed": "Больше не слежу за «{word}».",
        "excluded": "Исключено: «{word}».",
        "unexcluded": "Больше не исключаю «{word}».",
        "not_there": "«{word}» в этом списке нет.",
        "too_many_words": "Уже задано {n} слов и имён — это предел. Уберите лишние: "
                          "/unfollow или /unexclude.",
        "bad_word": "Нужно слово или фраза до 60 символов из букв, цифр, пробелов и дефисов.",
        "clear_usage": "Напишите, что очистить: /clear topics, places, words, excluded или "
                       "outlets.",
        "cleared": "Очищено: {what}.",
        "clear_names": {"topics": "темы", "places": "места", "words": "слова",
                        "excluded": "исключения", "outlets": "отключённые издания"},
        "filters": "Ваши фильтры:",
        "no_filters": "Фильтров нет: присылаю все сюжеты.",
        "sentence_all": "Присылаю все сюжеты.",
        "sentence_start": "Присылаю сюжеты",
        "sentence_topics": "где тема — {items}",
        "sentence_places": "где место — {items}",
        "sentence_words": "где есть {items}",
        "sentence_and": ", и ",
        "sentence_or": " или ",
        "sentence_except": " Кроме сюжетов со словами {items}.",
        "sentence_muted": " Не присылаю сюжеты только из изданий: {items}.",
        "f_topic": "Темы", "f_place": "Места", "f_follow": "Слова", "f_exclude": "Исключения",
        "f_mute": "Отключённые издания",
        "settings_head": "Настройки:",
        "set_mode_instant": "Режим: сразу, как только сюжет появился.",
        "set_mode_digest": "Режим: дайджест раз в день в {time} ({tz}).",
        "set_time": "Время дайджеста: {time}.",
        "set_tz": "Часовой пояс: {tz}.",
        "set_lang": "Язык: русский.",
        "set_quiet": "Тихие часы: {start}–{end} — сюжеты приходят без звука.",
        "set_quiet_none": "Тихие часы не заданы (/quiet 22:00-08:00).",
        "set_status_paused": "Рассылка приостановлена: /start — возобновить.",
        "mode_usage": "/mode instant — присылать сразу, /mode digest — раз в день.",
        "time_usage": "Напишите время: /time 9, /time 9:30 или /time 09:30.",
        "tz_usage": "Напишите часовой пояс так: /tz Asia/Tomsk или /tz UTC+7.",
        "tz_region": "«{tz}» — это часть света, а не пояс. Например: {examples}.",
        "quiet_usage": "Напишите часы так: /quiet 22:00-08:00 (или /quiet off).",
        "quiet_off": "Тихие часы отключены.",
        "lang_set": "Язык: русский.",
        "lang_usage": "Напишите /lang ru или /lang en",
        "unknown": "Не знаю такой команды. /help — список команд.",
        "not_command": "Я понимаю команды. /help — список команд.",
        "paused_note": "Рассылка сейчас приостановлена: /start — возобновить.",
        "digest_none": "Нового с прошлого дайджеста нет.",
        "digest_instant": "Сюжеты приходят вам сразу, по мере появления, и пропущенных "
                          "нет: всё, что подходит под фильтры, уже пришло. /mode digest — "
                          "получать вместо этого дайджест раз в день.",
        "search_usage": "Напишите, что искать: /search редкоземельные металлы",
        "search_none": "Ничего не нашлось.",
        "search_head": "Найдено в архиве:",
        "search_more": "Ещё",
        "search_expired": "Поиск устарел: пришлите /search ещё раз.",
        "sources_head": "Источники:",
        "trends_caption": "Сюжеты по темам и по местам за 12 недель.",
        "src_ok": "работает", "src_failing": "ошибки ({n} подряд): {error}",
        "src_paused": "приостановлен", "src_new": "ещё не опрашивался",
        "src_last": "последний успешный опрос {at}",
        "admin_only": "Эта команда только для администраторов бота.",
        "stats": "Статей: {articles}, сюжетов: {stories}, перепечаток: {reprints}.\n"
                 "Подписчики: {active_text}, на паузе: {paused}, недоступны: {gone}.\n"
                 "В очереди сообщений: {outbox}. Отправлено за сутки: {sent_day}."
                 " Не удалось отправить: {failed}.\n"
                 "Источников: {sources}, с ошибками: {failing}.",
        "subscribers": ("{n} активный", "{n} активных", "{n} активных"),
        "addsource_usage": "Напишите адрес ленты или сайта: /addsource https://example.ru/rss "
                           "(можно добавить интервал и имя: /addsource URL 30m Название)",
        "addsource_bad": "Не могу добавить: {error}",
        "addsource_ok": "Добавлен источник #{id} {name}: записей в ленте — {entries}, "
                        "проверяю раз в {interval}.",
        "addsource_exists": "Этот адрес уже есть: источник #{id} {name}.",
        "addsource_choose": "На сайте несколько лент — выберите одну:",
        "source_usage": "Напишите номер или имя источника из /sources: /{command} 12",
        "source_unknown": "Нет такого источника. /sources — список.",
        "source_removed": "Источник #{id} {name} удалён; его статьи остаются в архиве.",
        "source_in_config": "Источник #{id} {name} задан в файле настроек: удалите его там "
                            "(до перезапуска его можно приостановить: /pausesource {id}).",
        "source_paused": "Источник #{id} {name} приостановлен.",
        "source_resumed": "Источник #{id} {name} снова опрашивается.",
        "renamed": "Источник #{id} теперь называется {name}.",
        "exported": "Все источники — файл OPML; его понимает любая читалка лент.",
        "imported": "Импорт OPML: добавлено — {added}, уже были — {known}, отклонено — "
                    "{refused}.",
        "import_bad": "Не могу импортировать: {error}",
        "import_too_big": "файл больше 2 МБ",
        "opml_codes": {"no_url": "нет адреса ленты", "bad_url": "это не адрес http или https",
                       "repeated": "повтор в списке", "not_a_feed": "это не лента",
                       "too_deep": "слишком глубокая вложенность",
                       "too_many": "слишком много записей"},
        "err_no_feed": "на странице не нашлось ни одной ленты",
        "alert_down": "⚠️ Источник не работает с {since}: <b>{names}</b>. Ошибка: {error}",
        "alert_up": "✅ Источник снова работает: <b>{names}</b>.",
        "alert_net_down": "⚠️ Не отвечает ни один источник ({n}) с {since} — похоже, нет сети"
                          " у самого бота. Ошибка: {error}",
        "alert_net_up": "✅ Сеть вернулась: источники снова отвечают ({n}).",
        "rename_usage": "Напишите номер и новое имя: /renamesource 12 Новое имя",
        "rename_taken": "Имя {name} уже занято.",
        "slow_down": "Слишком много команд подряд — подождите немного.",
        "admins_only": "Настройки этого чата меняют только его администраторы.",
        "failed": "Не получилось: что-то сломалось у меня. Попробуйте позже.",
        "err_private": "адрес ведёт во внутреннюю сеть ({detail}); такие ленты добавлять "
                       "нельзя",
        "err_html": "по адресу веб-страница, а не лента, и ленты на ней не нашлось",
        "err_http": "сайт ответил кодом {detail}",
        "err_connect": "не удаётся подключиться к {detail}",
        "err_timeout": "сайт не ответил за {detail}",
        "err_too_big": "ответ слишком большой ({detail})",
        "err_not_feed": "это не лента RSS, Atom или JSON Feed",
        "err_too_deep": "в ленте слишком глубокая вложенность",
        "err_empty": "сайт прислал пустой ответ",
        "err_no_entries": "в ленте нет записей",
        "err_redirects": "слишком много перенаправлений",
        "err_bad_redirect": "сайт перенаправляет, не указав куда",
        "err_url": "это не адрес http или https{detail}",
        "err_address": "этот адрес нельзя загрузить",
        "err_proxy": "прокси не пропускает запрос{detail}",
        "err_network": "соединение оборвалось во время загрузки",
        "err_opml_empty": "файл пустой",
        "err_opml_xml": "файл испорчен: ошибка XML в строке {detail}",
        "err_opml_big": "файл больше {detail} байт",
        "err_opml_not": "это не файл OPML",
        "err_opml_entities": "в файле объявлены сущности XML или внешние ссылки — такие файлы "
                             "не читаю",
        "err_other": "ошибка: {detail}",
        "interval_units": {"s": "с", "m": "мин", "h": "ч", "d": "дн"},
    },
    "en": {
        "welcome": "Hello! I follow the region's press releases and news and tell you about "
                   "each story once, even when ten outlets reprint it, with a short summary and "
                   "the key figures.\n\nPick /topics and /places, add words with /follow — or "
                   "pick nothing and get everything. Filters narrow: a topic, and a place, and "
                   "a word, all at once. /mode digest for one daily digest. /help lists every "
                   "command.",
        "stopped": "Delivery paused; your filters are kept. /start resumes.",
        "forgotten": "Everything about this chat is deleted. /start subscribes again.",
        "help": "Filters narrow: I send stories with any of the chosen topics, and any of the "
                "chosen places, and any of the words (when there are any), except the "
                "excluded ones. Nothing chosen: everything.\n\nCommands:",
        "topics": "Topics (tap to turn on or off):",
        "places": "Places (tap to turn on or off):",
        "people": "People and organisations of the week (tap to follow):",
        "people_none": "No names in the archive this week.",
        "outlets": "Outlets (tap to mute or unmute):",
        "outlets_none": "No sources yet.",
        "muted": "Muted: {name}",
        "unmuted": "Unmuted: {name}",
        "list_changed": "The list has changed: send the command again.",
        "on": "On: {name}",
        "off": "Off: {name}",
        "follow_usage": "Send a word or a name (in Russian, as the news is): /follow химия",
        "followed": "Following “{word}”.",
        "unfollowed": "No longer following “{word}”.",
        "excluded": "Excluded: “{word}”.",
        "unexcluded": "No longer excluding “{word}”.",
        "not_there": "“{word}” is not in that list.",
        "too_many_words": "You already have {n} words and names, the limit. Remove some: "
                          "/unfollow or /unexclude.",
        "bad_word": "I need a word or phrase of up to 60 letters, digits, spaces and hyphens.",
        "clear_usage": "Send what to clear: /clear topics, places, words, excluded or outlets.",
        "cleared": "Cleared: {what}.",
        "clear_names": {"topics": "topics", "places": "places", "words": "words",
                        "excluded": "excluded words", "outlets": "muted outlets"},
        "filters": "Your filters:",
        "no_filters": "No filters: you get every story.",
        "sentence_all": "I send every story.",
        "sentence_start": "I send stories",
        "sentence_topics": "whose topic is {items}",
        "sentence_places": "whose place is {items}",
        "sentence_words": "that mention {items}",
        "sentence_and": ", and ",
        "sentence_or": " or ",
        "sentence_except": " Except stories with {items}.",
        "sentence_muted": " Not stories only from: {items}.",
        "f_topic": "Topics", "f_place": "Places", "f_follow": "Words", "f_exclude": "Excluded",
        "f_mute": "Muted outlets",
        "settings_head": "Settings:",
        "set_mode_instant": "Mode: at once, as soon as a story appears.",
        "set_mode_digest": "Mode: a daily digest at {time} ({tz}).",
        "set_time": "Digest time: {time}.",
        "set_tz": "Time zone: {tz}.",
        "set_lang": "Language: English.",
        "set_quiet": "Quiet hours: {start}–{end}: stories arrive without sound.",
        "set_quiet_none": "No quiet hours (/quiet 22:00-08:00).",
        "set_status_paused": "Delivery is paused: /start resumes it.",
        "mode_usage": "/mode instant: at once; /mode digest: once a day.",
        "time_usage": "Send the time: /time 9, /time 9:30 or /time 09:30.",
        "tz_usage": "Send the time zone like this: /tz Asia/Tomsk or /tz UTC+7.",
        "tz_region": "“{tz}” is a part of the world, not a zone. For example: {examples}.",
        "quiet_usage": "Send the hours like this: /quiet 22:00-08:00 (or /quiet off).",
        "quiet_off": "Quiet hours are off.",
        "lang_set": "Language: English.",
        "lang_usage": "Send /lang ru or /lang en",
        "unknown": "I don't know that command. /help lists them.",
        "not_command": "I understand commands. /help lists them.",
        "paused_note": "Delivery is paused: /start resumes it.",
        "digest_none": "Nothing new since the last digest.",
        "digest_instant": "Stories come to you at once, as they appear, and none was "
                          "missed: everything your filters match has come already. /mode "
                          "digest for a daily digest instead.",
        "search_usage": "Send what to look for, in Russian: /search редкоземельные металлы",
        "search_none": "Nothing found.",
        "search_head": "Found in the archive:",
        "search_more": "More",
        "search_expired": "That search has expired: send /search again.",
        "sources_head": "Sources:",
        "trends_caption": "Stories per topic and per place over 12 weeks.",
        "src_ok": "working", "src_failing": "failing ({n} in a row): {error}",
        "src_paused": "paused", "src_new": "not polled yet",
        "src_last": "last good poll {at}",
        "admin_only": "This command is for the bot's admins only.",
        "stats": "Articles: {articles}, stories: {stories}, reprints: {reprints}.\n"
                 "Subscribers: {active_text}, paused: {paused}, unreachable: {gone}.\n"
                 "Messages queued: {outbox}. Sent in the last day: {sent_day}."
                 " Failed: {failed}.\n"
                 "Sources: {sources}, failing: {failing}.",
        "subscribers": ("{n} active", "{n} active", "{n} active"),
        "addsource_usage": "Send the address of a feed or a site: /addsource "
                           "https://example.com/rss (an interval and a name may follow: "
                           "/addsource URL 30m Name)",
        "addsource_bad": "Cannot add it: {error}",
        "addsource_ok": "Added source #{id} {name}: {entries} entries in the feed, checked "
                        "every {interval}.",
        "addsource_exists": "That feed is already a source: #{id} {name}.",
        "addsource_choose": "The site has several feeds: choose one:",
        "source_usage": "Send the number or name of a source from /sources: /{command} 12",
        "source_unknown": "No such source. /sources lists them.",
        "source_removed": "Source #{id} {name} removed; its articles stay in the archive.",
        "source_in_config": "Source #{id} {name} is set in the config file: remove it there "
                            "(until a restart you can pause it: /pausesource {id}).",
        "source_paused": "Source #{id} {name} paused.",
        "source_resumed": "Source #{id} {name} is polled again.",
        "renamed": "Source #{id} is now called {name}.",
        "exported": "Every source as an OPML file; any feed reader reads it.",
        "imported": "OPML import: {added} added, {known} already there, {refused} refused.",
        "import_bad": "Cannot import it: {error}",
        "import_too_big": "the file is over 2 MB",
        "opml_codes": {"no_url": "no feed address", "bad_url": "not an http or https address",
                       "repeated": "repeated in the list", "not_a_feed": "not a feed",
                       "too_deep": "nested too deeply", "too_many": "too many entries"},
        "err_no_feed": "no feed was found on the page",
        "alert_down": "⚠️ A source has failed since {since}: <b>{names}</b>. Error: {error}",
        "alert_up": "✅ The source works again: <b>{names}</b>.",
        "alert_net_down": "⚠️ No source ({n}) has answered since {since}: the bot's own network"
                          " looks down. Error: {error}",
        "alert_net_up": "✅ The network is back: the sources answer again ({n}).",
        "rename_usage": "Send the number and the new name: /renamesource 12 New name",
        "rename_taken": "The name {name} is taken.",
        "slow_down": "Too many commands in a row: please wait a little.",
        "admins_only": "Only this chat's administrators change its settings.",
        "failed": "That did not work: something broke on my side. Please try again later.",
        "err_private": "the address leads into a private network ({detail}); such feeds "
                       "cannot be added",
        "err_html": "the address is a web page, not a feed, and no feed was found on it",
        "err_http": "the site answered with code {detail}",
        "err_connect": "cannot connect to {detail}",
        "err_timeout": "the site did not answer within {detail}",
        "err_too_big": "the answer is too big ({detail})",
        "err_not_feed": "this is not an RSS, Atom or JSON Feed",
        "err_too_deep": "the feed is nested too deeply",
        "err_empty": "the site sent an empty answer",
        "err_no_entries": "the feed has no entries",
        "err_redirects": "too many redirects",
        "err_bad_redirect": "the site redirects without saying where",
        "err_url": "not an http or https address{detail}",
        "err_address": "this address cannot be fetched",
        "err_proxy": "the proxy does not let the request through{detail}",
        "err_network": "the connection broke during the download",
        "err_opml_empty": "the file is empty",
        "err_opml_xml": "the file is damaged: an XML error at line {detail}",
        "err_opml_big": "the file is over {detail} bytes",
        "err_opml_not": "this is not an OPML file",
        "err_opml_entities": "the file declares XML entities or external references; such files "
                             "are not read",
        "err_other": "error: {detail}",
        "interval_units": {"s": "s", "m": "min", "h": "h", "d": "d"},
    },
}

PLACE_CHOICES = ("Томская область", "Узбекистан", "Беларусь", "Казахстан", "Киргизия",
                 "Таджикистан", "Китай", "Монголия", "Центральная Азия", "Татарстан",
                 "Новосибирская область", "Кемеровская область", "Сибирь", "Россия")

# Cities to suggest for "/tz Asia" and the like.
TZ_EXAMPLES = {"asia": "Asia/Tomsk, Asia/Novosibirsk, Asia/Tashkent, Asia/Almaty",
               "europe": "Europe/Moscow, Europe/Minsk, Europe/Samara",
               "america": "America/New_York, America/Chicago",
               "africa": "Africa/Cairo", "australia": "Australia/Sydney",
               "pacific": "Pacific/Auckland", "etc": "UTC, UTC+7"}


def t(lang: str, key: str, **kwargs: object) -> str:
    table = TEXTS.get(lang, TEXTS["ru"])
    value = table[key]
    assert isinstance(value, str), key
    return value.format(**kwargs) if kwargs else value


def table(lang: str, key: str) -> dict[str, str]:
    value = TEXTS.get(lang, TEXTS["ru"])[key]
    assert isinstance(value, dict), key
    return value


def plural(lang: str, key: str, n: int) -> str:
    """'1 активный', '3 активных', '5 активных': the Russian forms for one, few and many."""
    one, few, many = TEXTS.get(lang, TEXTS["ru"])[key]  # type: ignore[misc]
    if lang != "ru":
        form = one if n == 1 else few
    elif n % 10 == 1 and n % 100 != 11:
        form = one
    elif 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14:
        form = few
    else:
        form = many
    return form.format(n=n)


def quoted(lang: str, word: str) -> str:
    return f"«{word}»" if lang == "ru" else f"“{word}”"


def filters_sentence(lang: str, values: FilterValues, topic_name: Callable[[str], str],
                     place_name: Callable[[str], str]) -> str:
    """What the filters mean, as a sentence: OR within a dimension, AND across them."""
    def alternatives(items: Sequence[str]) -> str:
        return t(lang, "sentence_or").join(items)

    parts = []
    if values.get("topic"):
        parts.append(t(lang, "sentence_topics",
                       items=alternatives([topic_name(v) for v in values["topic"]])))
    if values.get("place"):
        parts.append(t(lang, "sentence_places",
                       items=alternatives([place_name(v) for v in values["place"]])))
    if values.get("follow"):
        parts.append(t(lang, "sentence_words",
                       items=alternatives([quoted(lang, v) for v in values["follow"]])))
    out = (t(lang, "sentence_start") + ", " + t(lang, "sentence_and").join(parts) + "."
           if parts else t(lang, "sentence_all"))
    if values.get("exclude"):
        out += t(lang, "sentence_except", items=", ".join(quoted(lang, v)
                                                          for v in values["exclude"]))
    if values.get("mute"):
        out += t(lang, "sentence_muted", items=", ".join(values["mute"]))
    return out


def settings_lines(lang: str, chat: Chat) -> list[str]:
    """The chat's settings in words."""
    lines = [t(lang, "set_mode_digest", time=chat.digest_time, tz=chat.tz)
             if chat.mode == "digest" else t(lang, "set_mode_instant")]
    if chat.mode != "digest":
        lines.append(t(lang, "set_time", time=chat.digest_time))
    lines.append(t(lang, "set_tz", tz=chat.tz))
    lines.append(t(lang, "set_lang"))
    lines.append(t(lang, "set_quiet", start=chat.quiet_start, end=chat.quiet_end)
                 if chat.quiet_start and chat.quiet_end else t(lang, "set_quiet_none"))
    if chat.status == "paused":
        lines.append(t(lang, "set_status_paused"))
    return lines


def alert_text(lang: str, alert: Alert) -> str:
    """An admin's alert about sources (bot/delivery/alerts.py), in HTML."""
    names = ", ".join(html.escape(n) for n in alert.sources[:10])
    more = len(alert.sources) - 10
    if more > 0:
        names += f" +{more}"
    since = alert.since.strftime("%Y-%m-%d %H:%M UTC") if alert.since else "?"
    error = html.escape(error_text(lang, alert.error)) if alert.error else ""
    key = {SOURCE_DOWN: "alert_down", SOURCE_UP: "alert_up", NETWORK_DOWN: "alert_net_down",
           NETWORK_UP: "alert_net_up"}[alert.kind]
    return t(lang, key, names=names, since=since, error=error, n=len(alert.sources))


def interval_text(lang: str, seconds: int) -> str:
    units = table(lang, "interval_units")
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0 and seconds >= size:
            return f"{seconds // size} {units[unit]}"
    return f"{seconds} {units['s']}"


# One-line reasons of the ingest layer (bot/ingest/fetch.py, parse.py) -> text keys.
_ERRORS = (
    (re.compile(r"refused .*?: (.*) is a private or loopback address(?: \((.*)\))?"),
     "err_private"),
    (re.compile(r"(?:private|loopback|link-local|reserved|multicast) address(?:es)?(.*)"),
     "err_private"),
    (re.compile(r"(?:got )?an HTML page, not a feed"), "err_html"),
    (re.compile(r"^no feed found"), "err_no_feed"),
    (re.compile(r"^HTTP \d{3} redirect without Location"), "err_bad_redirect"),
    (re.compile(r"^(?:unexpected )?HTTP (\d{3})\b"), "err_http"),
    (re.compile(r"^the proxy refused: HTTP (\d{3})"), "err_proxy"),
    (re.compile(r"^cannot connect to the proxy (\S+?):?(?: |$)"), "err_proxy"),
    (re.compile(r"^SOCKS proxy()"), "err_proxy"),
    (re.compile(r"cannot connect to (\S+?):?(?: |$)"), "err_connect"),
    (re.compile(r"cannot resolve (\S+?):?(?: |$)"), "err_connect"),
    (re.compile(r"timed out after (\S+)"), "err_timeout"),
    (re.compile(r"(?:body .*over the|over the) (\d+)-byte cap"), "err_too_big"),
    (re.compile(r"nested too deeply"), "err_too_deep"),
    (re.compile(r"^empty body"), "err_empty"),
    (re.compile(r"^(?:not a feed|malformed feed|invalid JSON|JSON document is not|JSON Feed has "
                r"no|feed parser failed)"), "err_not_feed"),
    (re.compile(r"the feed has no entries|no entries"), "err_no_entries"),
    (re.compile(r"too many redirects|redirect loop"), "err_redirects"),
    (re.compile(r"only http and https URLs are accepted, got (\S+)"), "err_url"),
    (re.compile(r"not a web address \(http or https\)"), "err_url"),
    (re.compile(r"^refused \S+: "), "err_address"),
    (re.compile(r"^(?:broken response body|HTTP client error|network error)"), "err_network"),
    # OPML files (bot/ingest/opml.py)
    (re.compile(r"^the file is empty"), "err_opml_empty"),
    (re.compile(r"^not well-formed XML at line (\d+)"), "err_opml_xml"),
    (re.compile(r"^the file is \d+ bytes, over the (\d+)-byte limit"), "err_opml_big"),
    (re.compile(r"^not an OPML file"), "err_opml_not"),
    (re.compile(r"XML entities or external references"), "err_opml_entities"),
)


def error_text(lang: str, reason: str) -> str:
    """A fetch or feed error in the chat's language (the detail, an address or a status,
    as it came)."""
    for pattern, key in _ERRORS:
        m = pattern.search(reason)
        if m:
            detail = next((g for g in m.groups() if g), "").strip(" :()")
            if key in ("err_url", "err_proxy"):  # the scheme or the proxy, when known
                detail = f" ({detail})" if detail else ""
            return t(lang, key, detail=detail[:120])
    return t(lang, "err_other", detail=reason[:200])
