"""The web archive: pages rendered on the server, feeds out, CSV export and trend charts.

    /                 the latest stories; filters q, topic, place, outlet, from, to; page
    /story/<id>       one story with every outlet that carried it
    /sources          the health of every source
    /trends           weekly charts of topics and places (/trends/<topics|places|all>.png)
    /feed.atom        Atom 1.0 of the latest stories, the same filters
    /feed.json        JSON Feed 1.1, the same filters
    /export.csv       the stories of a filter as CSV, for a spreadsheet

Read-only (GET and HEAD; anything else is 405), no JavaScript, nothing about chats or
subscribers. Templates autoescape every field; characters no page or feed should carry are
removed before (``present.printable``). With a token set every request must carry it, as
``?token=`` or the cookie set when the query token was right.
"""

from __future__ import annotations

import errno
import hashlib
import hmac
import json
import logging
import sqlite3
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import aiohttp_jinja2
import jinja2
from aiohttp import web
from markupsafe import Markup

from bot.config import TopicConfig
from bot.storage import archive
from bot.storage.db import Database, DatabaseError, utcnow
from bot.web import params
from bot.web.charts import WEEKS, TrendCharts
from bot.web.feeds import (
    EXPORT_CHUNK,
    EXPORT_MAX,
    FEED_ITEMS,
    entries,
    export_csv,
    feed_updated,
    iso,
    json_feed,
)
from bot.web.present import (
    local_time,
    outlet_of,
    outlets,
    printable,
    safe_url,
    utc_offset,
    zone,
)

log = logging.getLogger(__name__)

TEMPLATES = Path(__file__).resolve().parent / "templates"
COOKIE = "pressbot_token"
LIST_CACHE_SECONDS = 60  # the place and outlet lists of the filter form
MAX_TOKEN = 200
HTML_PAGES = ("/", "/sources", "/trends")  # and /story/<id>: where a query token is moved
SECURITY_HEADERS = {
    # No script, no frames, no outside resources: a hostile field that slipped through the
    # escaping still could not run or load anything.
    "Content-Security-Policy": "default-src 'none'; img-src 'self'; style-src 'unsafe-inline';"
                               " form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class WebServerError(Exception):
    """The archive cannot be served; the message says why in one line (log it and go on)."""


class PortInUse(WebServerError):
    """Another program listens on the configured address and port."""


def _plain(status: int, text: str) -> web.Response:
    return web.Response(status=status, text=text + "\n", content_type="text/plain",
                        charset="utf-8")


class WebServer:
    """The web archive as an aiohttp application on its own site (``start``/``stop``)."""

    def __init__(self, db: Database, *, host: str = "127.0.0.1", port: int = 8080,
                 base_url: str = "", token: str | None = None,
                 topics: Sequence[TopicConfig] = (), tz: str = "Asia/Tomsk",
                 clock: Callable[[], datetime] = utcnow, chart_seconds: float = 300,
                 extra_routes: Sequence[tuple[str, Handler]] = ()) -> None:
        self.db = db
        self.host = host
        self.requested_port = port
        self.port = 0
        self.base_url = base_url.strip().rstrip("/")
        self.root = urlsplit(self.base_url).path.rstrip("/") if self.base_url else ""
        self.token = token or None
        if self.token is not None and len(self.token) > MAX_TOKEN:
            raise WebServerError(f"web: token longer than {MAX_TOKEN} characters")
        self.topics = tuple(topics)
        self.topic_names = {t.id: t.name_ru for t in self.topics}
        self.tz_name = tz
        try:
            self.tz = zone(tz)
        except ValueError as exc:
            raise WebServerError(f"web: {exc}") from None
        self.clock = clock
        self.charts = TrendCharts(db, self.topics, tz=self.tz, ttl=chart_seconds, clock=clock)
        self.extra_routes = tuple(extra_routes)
        self._lists: dict[str, tuple[float, list]] = {}
        self._runner: web.AppRunner | None = None

    # ------------------------------------------------------------------ life cycle

    @property
    def address(self) -> str:
        """Where the archive answers: base_url when set, else the bound address."""
        return self.base_url + "/" if self.base_url else f"http://{self.host}:{self.port}/"

    def application(self) -> web.Application:
        app = web.Application(middlewares=[self._errors, self._guard])
        env = aiohttp_jinja2.setup(
            app, loader=jinja2.FileSystemLoader(str(TEMPLATES)), autoescape=True,
            finalize=lambda v: v if isinstance(v, Markup) else printable(v),
            undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
        env.globals.update(
            root=self.root, tz_name=self.tz_name, local=lambda d: local_time(d, self.tz),
            iso=iso, outlets=outlets, outlet_of=outlet_of, safe_url=safe_url,
            topic_name=lambda t: self.topic_names.get(t, t), max_search=params.MAX_SEARCH,
            max_value=params.MAX_VALUE)
        app.on_response_prepare.append(self._headers)
        router = app.router
        router.add_get("/", self.index)
        router.add_get("/story/{id}", self.story)
        router.add_get("/sources", self.sources)
        router.add_get("/trends", self.trends)
        router.add_get("/trends/{kind}.png", self.chart)
        router.add_get("/feed.atom", self.atom)
        router.add_get("/feed.json", self.json)
        router.add_get("/export.csv", self.export)
        router.add_get("/robots.txt", self.robots)
        for path, handler in self.extra_routes:
            router.add_get(path, handler)
        return app

    async def start(self) -> None:
        """Listen; raise PortInUse or WebServerError (one line each) when that fails."""
        self._runner = web.AppRunner(self.application(), access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.requested_port)
        try:
            await site.start()
        except OSError as exc:
            await self._runner.cleanup()
            self._runner = None
            where = f"{self.host}:{self.requested_port}"
            if exc.errno == errno.EADDRINUSE:
                raise PortInUse(f"web: {where} is in use by another program; the archive"
                                " is not served") from None
            raise WebServerError(f"web: cannot listen on {where}: "
                                 f"{exc.strerror or exc}") from None
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        log.info("web archive on %s", self.address)
        if self.token is None and self.host not in ("127.0.0.1", "::1", "localhost"):
            log.warning("web archive on %s:%s without a token: whoever reaches the address"
                        " reads the archive", self.host, self.port)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # ------------------------------------------------------------------ middleware

    @web.middleware
    async def _errors(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        try:
            return await handler(request)
        except params.BadParameter as exc:
            return self._error(request, 400, "Неверный запрос", str(exc))
        except web.HTTPException:
            raise
        except (sqlite3.Error, DatabaseError) as exc:
            log.warning("web: %s %s: database: %s", request.method, request.path, exc)
            return self._error(request, 503, "Архив недоступен",
                               "The archive database does not answer; try again later.")
        except Exception:
            log.exception("web: %s %s failed", request.method, request.path)
            return self._error(request, 500, "Ошибка", "Internal error; it has been logged.")

    def _cookie_value(self) -> str:
        assert self.token is not None
        return hmac.new(self.token.encode(), b"pressbot-web", hashlib.sha256).hexdigest()

    @web.middleware
    async def _guard(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if self.token is None:
            return await handler(request)
        given = request.query.get("token")
        if given is not None and hmac.compare_digest(given.encode()[:MAX_TOKEN + 1],
                                                     self.token.encode()):
            if self._is_page(request):  # keep the token out of the address bar and links
                rest = [(k, v) for k, v in request.query.items() if k != "token"]
                target = self.root + request.path + ("?" + urlencode(rest) if rest else "")
                response: web.StreamResponse = web.Response(status=303,
                                                            headers={"Location": target})
            else:
                response = await handler(request)
            response.set_cookie(COOKIE, self._cookie_value(), path=self.root or "/",
                                httponly=True, samesite="Lax", max_age=365 * 86400)
            return response
        cookie = request.cookies.get(COOKIE, "")
        if cookie and hmac.compare_digest(cookie.encode()[:100], self._cookie_value().encode()):
            return await handler(request)
        if self._is_page(request):
            return aiohttp_jinja2.render_template(
                "login.html", request, {"wrong": given is not None, "tz_offset": ""},
                status=401)
        return _plain(401, "token required: add ?token=... to the address")

    @staticmethod
    def _is_page(request: web.Request) -> bool:
        return request.path in HTML_PAGES or request.path.startswith("/story/")

    async def _headers(self, request: web.Request, response: web.StreamResponse) -> None:
        for key, value in SECURITY_HEADERS.items():
            response.headers.setdefault(key, value)
        if self.token is not None:
            response.headers.setdefault("Cache-Control", "private, no-store")

    def _error(self, request: web.Request, status: int, heading: str,
               message: str) -> web.Response:
        if self._is_page(request):
            return aiohttp_jinja2.render_template(
                "error.html", request, self._context(heading=heading, message=message),
                status=status)
        return _plain(status, f"{status} {message}")

    # ------------------------------------------------------------------ helpers

    def _context(self, **values) -> dict:
        return {"tz_offset": utc_offset(self.tz, self.clock()), **values}

    def _query(self, request: web.Request, **kwargs) -> params.Query:
        return params.parse_query(params.multidict(request.query), self.topic_names, **kwargs)

    def _base(self, request: web.Request) -> str:
        """Absolute links (feeds, CSV): base_url, else the address the request came to."""
        return self.base_url or f"{request.scheme}://{request.host}"

    async def _cached_list(self, name: str, load) -> list:
        hit = self._lists.get(name)
        if hit is not None and hit[0] > time.monotonic():
            return hit[1]
        value = await load()
        self._lists[name] = (time.monotonic() + LIST_CACHE_SECONDS, value)
        return value

    def _feed_qs(self, query: params.Query) -> str:
        extra = {"token": self.token} if self.token else {}
        return query.query_string(**extra)

    def _title(self, query: params.Query) -> str:
        parts = [self.topic_names.get(query.topic, "") if query.topic else "", query.place or "",
                 query.outlet or "", f"«{query.q}»" if query.q else ""]
        if query.date_from or query.date_to:
            parts.append(f"{query.date_from or '…'} — {query.date_to or '…'}")
        shown = ", ".join(p for p in parts if p)
        return "pressbot: сюжеты" + (f" — {shown}" if shown else "")

    # ------------------------------------------------------------------ pages

    async def index(self, request: web.Request) -> web.Response:
        query = self._query(request)
        rows = await archive.list_stories(
            self.db, query.archive_filter(self.tz), limit=params.PAGE_SIZE + 1,
            offset=(query.page - 1) * params.PAGE_SIZE)
        places = await self._cached_list("places", lambda: archive.place_names(self.db))
        names = await self._cached_list("outlets", lambda: archive.source_names(self.db))
        return aiohttp_jinja2.render_template("index.html", request, self._context(
            query=query, stories=rows[:params.PAGE_SIZE], has_next=len(rows) > params.PAGE_SIZE,
            topics=self.topics, places=places, outlet_names=names,
            feed_qs=self._feed_qs(query)))

    async def story(self, request: web.Request) -> web.Response:
        story_id = params.story_id(request.match_info["id"])
        found = await archive.story_detail(self.db, story_id) if story_id else None
        if found is None:
            return self._error(request, 404, "Сюжет не найден",
                               "No story with this number in the archive.")
        return aiohttp_jinja2.render_template("story.html", request,
                                              self._context(story=found))

    async def sources(self, request: web.Request) -> web.Response:
        return aiohttp_jinja2.render_template("sources.html", request, self._context(
            sources=await archive.source_health(self.db)))

    async def trends(self, request: web.Request) -> web.Response:
        trends = [(await self.charts.trend("topic"), "topics"),
                  (await self.charts.trend("place"), "places")]
        return aiohttp_jinja2.render_template("trends.html", request, self._context(
            trends=trends, weeks=WEEKS))

    async def chart(self, request: web.Request) -> web.Response:
        kind = request.match_info["kind"]
        if kind not in ("topics", "places", "all"):
            raise web.HTTPNotFound()
        png = await self.charts.png(kind)
        return web.Response(body=png, content_type="image/png",
                            headers={"Cache-Control": "max-age=300"})

    async def robots(self, request: web.Request) -> web.Response:
        return _plain(200, "User-agent: *\nDisallow: /")

    # ------------------------------------------------------------------ feeds out

    async def _feed_entries(self, request: web.Request):
        query = self._query(request, max_page=1)
        rows = await archive.list_stories(self.db, query.archive_filter(self.tz),
                                          limit=FEED_ITEMS)
        base = self._base(request)
        return query, base, entries(rows, base, self.topic_names)

    async def atom(self, request: web.Request) -> web.Response:
        query, base, items = await self._feed_entries(request)
        home = f"{base}/{query.query_string()}"
        response = aiohttp_jinja2.render_template("feed.atom", request, {
            "feed_id": f"{base}/feed.atom{query.query_string()}", "title": self._title(query),
            "updated": feed_updated(items), "self_url": f"{base}/feed.atom{query.query_string()}",
            "home": home, "items": items})
        response.content_type = "application/atom+xml"
        response.charset = "utf-8"
        return response

    async def json(self, request: web.Request) -> web.Response:
        query, base, items = await self._feed_entries(request)
        doc = json_feed(items, title=self._title(query), home=f"{base}/{query.query_string()}",
                        feed_url=f"{base}/feed.json{query.query_string()}")
        return web.Response(text=json.dumps(doc, ensure_ascii=False, indent=1),
                            content_type="application/feed+json", charset="utf-8")

    async def export(self, request: web.Request) -> web.StreamResponse:
        """Streamed in parts of EXPORT_CHUNK stories, each part after the last one's
        (story time, id), so stories arriving meanwhile neither repeat nor shift rows."""
        query = self._query(request, max_page=1)
        f = query.archive_filter(self.tz)
        base = self._base(request)
        rows = await archive.list_stories(self.db, f, limit=EXPORT_CHUNK)
        response = web.StreamResponse(headers={
            "Content-Type": "text/csv; charset=utf-8",
            "Content-Disposition": 'attachment; filename="pressbot-stories.csv"'})
        await response.prepare(request)
        await response.write(b"\xef\xbb\xbf" + export_csv(
            rows, base, self.topic_names, self.tz).encode("utf-8"))
        done = len(rows)
        while len(rows) == EXPORT_CHUNK and done < EXPORT_MAX:
            last = rows[-1]
            rows = await archive.list_stories(self.db, f, limit=min(EXPORT_CHUNK,
                                                                    EXPORT_MAX - done),
                                              older_than=(last.at, last.story_id))
            await response.write(export_csv(rows, base, self.topic_names, self.tz,
                                            header=False).encode("utf-8"))
            done += len(rows)
        await response.write_eof()
        return response
