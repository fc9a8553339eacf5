"""The web archive: stories, feeds out, CSV export and trend charts over HTTP."""

from bot.web.server import PortInUse, WebServer, WebServerError

__all__ = ["PortInUse", "WebServer", "WebServerError"]
