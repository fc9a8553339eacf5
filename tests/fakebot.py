"""A fake Telegram Bot API server on 127.0.0.1 that speaks the real protocol.

aiogram's real client talks to it through `TelegramAPIServer.from_base(...)` (the same setting
as `[telegram] api_server`). It answers /bot<token>/<method> with Telegram's JSON, records what
was sent, enforces Telegram's limits (about 30 messages/s overall, 1/s per private chat,
20/min per group or channel) by answering 429 with retry_after, and injects failures: blocked
users (403), chats not found (400), migrated groups (400 with migrate_to_chat_id), 5xx.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

BOT_USER = {"id": 777000111, "is_bot": True, "first_name": "pressbot",
            "username": "pressbot_test_bot"}


@dataclass
class Sent:
    chat_id: int
    text: str
    message_id: int
    parse_mode: str | None
    thread_id: int | None
    no_preview: bool
    reply_markup: Any
    at: float


@dataclass
class FakeBotAPI:
    global_rate: int = 30
    private_per_second: int = 1
    group_per_minute: int = 20
    enforce: bool = True
    blocked: set[int] = field(default_factory=set)
    not_found: set[int] = field(default_factory=set)
    migrated: dict[int, int] = field(default_factory=dict)
    fail_next: int = 0  # answer this many sends with 502
    forced_429: dict[int, int] = field(default_factory=dict)  # chat -> 429s still to answer
    retry_after: int = 1
    delay: float = 0.0
    # Failures answered to the next sends, one each, in order: "401", "404", "409",
    # "html502" (a proxy's error page), "notjson", "badok" (ok, but a result the client
    # cannot decode), "stall" (no answer for ``stall_seconds``), "500".
    failures: list[str] = field(default_factory=list)
    fail_always: str | None = None  # the same failure for every send until cleared
    stall_seconds: float = 30.0
    # method (lower case) -> how many more calls of it to answer with a proxy's 502 page
    # that echoes the request path (the token in it, as some proxies do)
    fail_methods: dict[str, int] = field(default_factory=dict)
    chat_admins: dict[int, set[int]] = field(default_factory=dict)  # group -> admin user ids

    def __post_init__(self) -> None:
        self.sent: list[Sent] = []
        self.edits: list[dict[str, Any]] = []
        self.contents: dict[tuple[int, int], tuple[str, Any]] = {}  # (chat, message) -> text
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.commands: list[Any] = []
        self.callback_answers: list[dict[str, Any]] = []
        self.photos: list[dict[str, Any]] = []
        self.documents: list[dict[str, Any]] = []  # what the bot sent as files
        self.files: dict[str, bytes] = {}  # file_id -> what users sent (getFile, download)
        self.too_many = 0
        self.errors: list[tuple[int, str]] = []
        self.updates: list[dict[str, Any]] = []
        self._update_id = 0
        self._confirmed = 0  # the highest offset a getUpdates call gave
        self._new_update = asyncio.Event()
        self._message_id = 0
        self._global: deque[float] = deque()
        self._per_chat: dict[int, deque[float]] = defaultdict(deque)
        self._runner: web.AppRunner | None = None
        self.port = 0

    # ---------------------------------------------------------------- server

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        app.router.add_get("/file/bot{token}/{path:.+}", self._file)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    # ---------------------------------------------------------------- test helpers

    def messages_to(self, chat_id: int) -> list[Sent]:
        return [s for s in self.sent if s.chat_id == chat_id]

    def push_message(self, chat_id: int, text: str, *, user_id: int | None = None,
                     chat_type: str = "private", thread_id: int | None = None) -> None:
        """A user writes to the bot: queued for getUpdates (``thread_id``: in a forum
        topic)."""
        self._message_id += 1
        topic = {"message_thread_id": thread_id, "is_topic_message": True} if thread_id else {}
        self._push({"message": {
            "message_id": self._message_id, "date": int(time.time()),
            "chat": {"id": chat_id, "type": chat_type, "first_name": "Тест",
                     **({"title": "Группа", "is_forum": bool(thread_id)}
                        if chat_type != "private" else {})},
            "from": {"id": user_id or chat_id, "is_bot": False, "first_name": "Тест"},
            "text": text, **topic,
            **({"entities": [{"type": "bot_command", "offset": 0,
                              "length": len(text.split()[0])}]} if text.startswith("/") else {}),
        }})

    def push_document(self, chat_id: int, file_name: str, data: bytes, *,
                      user_id: int | None = None) -> None:
        """A user sends a file: queued for getUpdates, its bytes served by getFile."""
        self._message_id += 1
        file_id = f"file-{self._message_id}"
        self.files[file_id] = data
        self._push({"message": {
            "message_id": self._message_id, "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private", "first_name": "Тест"},
            "from": {"id": user_id or chat_id, "is_bot": False, "first_name": "Тест"},
            "document": {"file_id": file_id, "file_unique_id": file_id,
                         "file_name": file_name, "file_size": len(data)}}})

    async def _file(self, request: web.Request) -> web.StreamResponse:
        data = self.files.get(request.match_info["path"].rsplit("/", 1)[-1])
        if data is None:
            return web.Response(status=404, text="not found")
        return web.Response(body=data)

    def push_callback(self, chat_id: int, message_id: int, data: str, *,
                      user_id: int | None = None, chat_type: str = "private") -> None:
        self._push({"callback_query": {
            "id": str(self._update_id + 1), "chat_instance": "1",
            "from": {"id": user_id or chat_id, "is_bot": False, "first_name": "Тест"},
            "message": {"message_id": message_id, "date": int(time.time()),
                        "chat": {"id": chat_id, "type": chat_type}, "text": "…"},
            "data": data}})

    def _push(self, update: dict[str, Any]) -> None:
        self._update_id += 1
        self.updates.append({"update_id": self._update_id, **update})
        self._new_update.set()

    # ---------------------------------------------------------------- protocol

    @staticmethod
    async def _params(request: web.Request) -> dict[str, Any]:
        if request.content_type == "application/json":
            return dict(await request.json())
        data = await request.post()
        out: dict[str, Any] = {}
        for key, value in data.items():
            if not isinstance(value, str):  # an uploaded file (sendPhoto): its bytes
                out[key] = value.file.read()
                continue
            text = value
            if key in ("reply_markup", "link_preview_options", "commands", "allowed_updates"):
                try:
                    out[key] = json.loads(text)
                    continue
                except ValueError:
                    pass
            out[key] = text
        return out

    @staticmethod
    def _ok(result: Any) -> web.Response:
        return web.json_response({"ok": True, "result": result})

    def _error(self, status: int, description: str, **parameters: Any) -> web.Response:
        self.errors.append((status, description))
        body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
        if parameters:
            body["parameters"] = parameters
        return web.json_response(body, status=status)

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        method = request.match_info["method"].lower()
        params = await self._params(request)
        self.calls.append((method, params))
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.fail_methods.get(method):
            self.fail_methods[method] -= 1
            self.errors.append((502, method))
            return web.Response(status=502, content_type="text/html",
                                text=f"<html><body>502 Bad Gateway: {request.path}</body></html>")
        if method == "getme":
            return self._ok(BOT_USER)
        if method in ("deletewebhook", "setmycommands", "deletemycommands", "close"):
            if method == "setmycommands":
                self.commands.append(params.get("commands"))
            return self._ok(True)
        if method == "getupdates":
            return await self._get_updates(params)
        if method == "getfile":
            file_id = str(params.get("file_id"))
            if file_id not in self.files:
                return self._error(400, "Bad Request: invalid file_id")
            return self._ok({"file_id": file_id, "file_unique_id": file_id,
                             "file_size": len(self.files[file_id]),
                             "file_path": f"documents/{file_id}"})
        if method == "senddocument":
            document = params.get("document")
            if isinstance(document, str) and document.startswith("attach://"):
                document = params.get(document.removeprefix("attach://"))
            if not isinstance(document, bytes):
                return self._error(400, "Bad Request: there is no document in the request")
            chat_id = int(params["chat_id"])
            self.documents.append({"chat_id": chat_id, "document": document,
                                   "caption": params.get("caption")})
            self._message_id += 1
            return self._ok({"message_id": self._message_id, "date": int(time.time()),
                             "chat": {"id": chat_id, "type": "private"},
                             "document": {"file_id": "d1", "file_unique_id": "d1"}})
        if method == "sendphoto":
            chat_id = int(params["chat_id"])
            if self.enforce and self._limited(chat_id):
                self.too_many += 1
                return self._error(429, f"Too Many Requests: retry after {self.retry_after}",
                                   retry_after=self.retry_after)
            photo = params.get("photo")
            if isinstance(photo, str) and photo.startswith("attach://"):  # aiogram's upload
                photo = params.get(photo.removeprefix("attach://"))
            if not isinstance(photo, bytes) or not photo:
                return self._error(400, "Bad Request: there is no photo in the request")
            self.photos.append({"chat_id": chat_id, "photo": photo,
                                "caption": params.get("caption")})
            self._message_id += 1
            return self._ok({"message_id": self._message_id, "date": int(time.time()),
                             "chat": {"id": chat_id, "type": "private"},
                             "photo": [{"file_id": "f1", "file_unique_id": "u1", "width": 800,
                                        "height": 960}]})
        if method == "getchatmember":
            chat, user = int(params["chat_id"]), int(params["user_id"])
            status = "administrator" if user in self.chat_admins.get(chat, set()) else "member"
            member = {"status": status, "user": {"id": user, "is_bot": False,
                                                 "first_name": "Тест"}}
            if status == "administrator":
                member.update({"can_be_edited": False, "is_anonymous": False,
                               "can_manage_chat": True, "can_delete_messages": True,
                               "can_manage_video_chats": True, "can_restrict_members": True,
                               "can_promote_members": False, "can_change_info": True,
                               "can_invite_users": True, "can_post_stories": False,
                               "can_edit_stories": False, "can_delete_stories": False,
                               "can_send_welcome_messages": False})
            return self._ok(member)
        if method == "answercallbackquery":
            self.callback_answers.append(params)
            return self._ok(True)
        if method in ("sendmessage", "editmessagetext"):
            if self.fail_always == "stall" or (self.failures and self.failures[0] == "stall"):
                if self.fail_always != "stall":
                    self.failures.pop(0)
                self.errors.append((0, "stall"))
                await asyncio.sleep(self.stall_seconds)
                return self._error(504, "Gateway Timeout")
            return self._send(method, params)
        if method == "editmessagereplymarkup":
            self.edits.append(params)
            chat = {"id": int(params["chat_id"]), "type": "private"}
            return self._ok({"message_id": int(params["message_id"]), "date": int(time.time()),
                             "chat": chat, "text": "…"})
        return self._error(404, "Not Found: method not found")

    async def _get_updates(self, params: dict[str, Any]) -> web.Response:
        # As on Telegram, a call with an offset confirms every update before it, for every
        # later caller (a process taking over reading updates does not see them again).
        offset = max(int(params.get("offset") or 0), self._confirmed)
        self._confirmed = offset
        timeout = float(params.get("timeout") or 0)
        pending = [u for u in self.updates if u["update_id"] >= offset]
        if not pending and timeout:
            self._new_update.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._new_update.wait(), min(timeout, 1.0))
            pending = [u for u in self.updates if u["update_id"] >= offset]
        return self._ok(pending)

    def _limited(self, chat_id: int) -> bool:
        now = time.monotonic()
        window = self._global
        while window and now - window[0] >= 1.0:
            window.popleft()
        chat = self._per_chat[chat_id]
        group = chat_id < 0
        span, allowed = (60.0, self.group_per_minute) if group else (1.0,
                                                                     self.private_per_second)
        while chat and now - chat[0] >= span:
            chat.popleft()
        if len(window) >= self.global_rate or len(chat) >= allowed:
            return True
        window.append(now)
        chat.append(now)
        return False

    def _failure(self, kind: str, chat_id: int) -> web.Response:
        if kind == "401":
            return self._error(401, "Unauthorized")
        if kind == "404":
            return self._error(404, "Not Found")
        if kind == "409":
            return self._error(409, "Conflict: terminated by other getUpdates request; make sure"
                               " that only one bot instance is running")
        if kind == "500":
            return self._error(500, "Internal Server Error")
        if kind == "html502":
            return web.Response(status=502, content_type="text/html",
                                text="<html><body><h1>502 Bad Gateway</h1>nginx</body></html>")
        if kind == "notjson":
            return web.Response(status=200, content_type="application/json", text="{ok: tru")
        if kind == "badok":  # accepted, but the answer cannot be read: the client cannot know
            self._message_id += 1
            self.sent.append(Sent(chat_id, "(accepted, answer garbled)", self._message_id,
                                  None, None, False, None, time.monotonic()))
            return web.json_response({"ok": True, "result": {"message_id": "not a number"}})
        raise AssertionError(f"unknown failure {kind}")

    def _send(self, method: str, params: dict[str, Any]) -> web.Response:
        chat_id = int(params["chat_id"])
        if chat_id in self.migrated:
            return self._error(400, "Bad Request: group chat was upgraded to a supergroup chat",
                               migrate_to_chat_id=self.migrated[chat_id])
        if chat_id in self.blocked:
            return self._error(403, "Forbidden: bot was blocked by the user")
        if chat_id in self.not_found:
            return self._error(400, "Bad Request: chat not found")
        if self.fail_next:
            self.fail_next -= 1
            return self._error(502, "Bad Gateway")
        failure = self.fail_always or (self.failures.pop(0) if self.failures else None)
        if failure is not None:
            self.errors.append((0, failure))
            return self._failure(failure, chat_id)
        if self.forced_429.get(chat_id):
            self.forced_429[chat_id] -= 1
            self.too_many += 1
            return self._error(429, f"Too Many Requests: retry after {self.retry_after}",
                               retry_after=self.retry_after)
        if self.enforce and self._limited(chat_id):
            self.too_many += 1
            return self._error(429, f"Too Many Requests: retry after {self.retry_after}",
                               retry_after=self.retry_after)
        text = str(params.get("text", ""))
        if not 1 <= len(text.encode("utf-16-le")) // 2 <= 4096:  # Telegram counts UTF-16
            return self._error(400, "Bad Request: message is too long")
        chat = {"id": chat_id, "type": "private" if chat_id > 0 else "supergroup"}
        if method == "editmessagetext":
            key = (chat_id, int(params["message_id"]))
            new = (text, params.get("reply_markup"))
            if self.contents.get(key) == new:
                return self._error(400, "Bad Request: message is not modified: specified new "
                                   "message content and reply markup of the specified message "
                                   "are exactly the same as a current content and reply "
                                   "markup of the message")
            self.contents[key] = new
            self.edits.append(params)
            return self._ok({"message_id": key[1], "date": int(time.time()),
                             "chat": chat, "text": text})
        self._message_id += 1
        self.contents[(chat_id, self._message_id)] = (text, params.get("reply_markup"))
        preview = params.get("link_preview_options") or {}
        no_preview = bool(preview.get("is_disabled")) or params.get(
            "disable_web_page_preview") in ("true", "True", True)
        thread = params.get("message_thread_id")
        self.sent.append(Sent(chat_id, text, self._message_id, params.get("parse_mode"),
                              int(thread) if thread else None, no_preview,
                              params.get("reply_markup"), time.monotonic()))
        return self._ok({"message_id": self._message_id, "date": int(time.time()),
                         "chat": chat, "text": text})
