"""Which messages admins get about broken sources: a pure state machine, ticked by a clock.

Each tick takes a snapshot of every source's health and the state kept since the last tick, and
returns the alerts to send and the state to keep:

- ``SOURCE_DOWN`` once, when an enabled source has failed continuously for ``alert_after``,
  naming it and its last error; ``SOURCE_UP`` once, when a source so reported works again.
- ``NETWORK_DOWN`` once instead of one message per source, when every enabled source (at least
  two) has been failing together for ``alert_after``: then it is the host's network, not the
  sites; ``NETWORK_UP`` once, when any of them works again. While every source fails, no
  per-source message goes out.
- After the network comes back, a source whose failure began before that is reported only once
  it has been checked again (``last_checked`` after the return) and still fails: a source
  waiting out its backoff would otherwise be reported for the outage that just ended. Without
  ``last_checked``, such a source waits ``alert_after`` from the return.
- A source never polled (no failure, no success, never checked: pass ``last_success`` and
  ``last_checked``) counts neither way: "every enabled source" means every one polled.

No repeats: the state (``AlertState``) is a small plain object, JSON-serialisable with
``to_json``/``from_json``, that the caller stores between ticks and across restarts. Sources are
known by name; one disabled or removed is forgotten without a message. Texts are not made here:
alerts carry the kind, the source names, the error and the times, for the caller to word in
the admin's language.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

SOURCE_DOWN = "source_down"
SOURCE_UP = "source_up"
NETWORK_DOWN = "network_down"
NETWORK_UP = "network_up"
STATE_VERSION = 1
MAX_ERROR = 300


@dataclass(frozen=True)
class SourceHealth:
    """One source at the tick. ``failing_since``: when the current run of failures began
    (the first failed poll after the last success); None when the last poll succeeded or the
    source has not been polled. ``last_checked``: when it was last polled, if known."""

    name: str
    enabled: bool
    failing_since: datetime | None
    last_error: str | None = None
    last_success: datetime | None = None
    last_checked: datetime | None = None


@dataclass(frozen=True)
class Alert:
    """One message to send. ``sources``: the source named (one for SOURCE_*, every enabled
    source for NETWORK_DOWN, the ones working again for NETWORK_UP); ``since``: when the
    failure began; ``until``: when it ended (for *_UP)."""

    kind: str
    sources: tuple[str, ...]
    error: str | None = None
    since: datetime | None = None
    until: datetime | None = None


@dataclass
class AlertState:
    """What has been said: sources reported down (name -> start of the reported failure),
    whether the network was reported down (and since when), and when it last came back."""

    down: dict[str, datetime] = field(default_factory=dict)
    network_since: datetime | None = None
    network_up_at: datetime | None = None

    def to_json(self) -> dict[str, Any]:
        return {"version": STATE_VERSION,
                "down": {name: _iso(since) for name, since in sorted(self.down.items())},
                "network_since": _iso(self.network_since),
                "network_up_at": _iso(self.network_up_at)}

    @classmethod
    def from_json(cls, data: object) -> AlertState:
        """Tolerant: what cannot be read is forgotten (at worst an alert is sent again),
        never an exception that would stop the alerts."""
        if not isinstance(data, dict) or data.get("version") != STATE_VERSION:
            return cls()
        down: dict[str, datetime] = {}
        raw = data.get("down")
        if isinstance(raw, dict):
            for name, since in raw.items():
                when = _parse(since)
                if isinstance(name, str) and when is not None:
                    down[name] = when
        return cls(down, _parse(data.get("network_since")), _parse(data.get("network_up_at")))


def _aware(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def _iso(value: datetime | None) -> str | None:
    return _aware(value).isoformat() if value is not None else None  # type: ignore[union-attr]


def _parse(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return _aware(datetime.fromisoformat(value))
    except ValueError:
        return None


def _error(text: str | None) -> str | None:
    if not text:
        return None
    line = " ".join(text.split())
    return line[:MAX_ERROR] or None


def _common_error(sources: list[SourceHealth]) -> str | None:
    errors = [e for e in (_error(s.last_error) for s in sources) if e]
    if not errors:
        return None
    return Counter(errors).most_common(1)[0][0]


def evaluate(sources: Iterable[SourceHealth], state: AlertState, now: datetime,
             alert_after: timedelta) -> tuple[list[Alert], AlertState]:
    """One tick: the alerts to send now (network first, then sources down, then sources up,
    each by name) and the state to keep. ``state`` is not changed."""
    now = _aware(now)  # type: ignore[assignment]
    by_name: dict[str, SourceHealth] = {}
    for s in sources:
        if s.enabled:
            by_name[s.name] = SourceHealth(s.name, True, _aware(s.failing_since), s.last_error,
                                           _aware(s.last_success), _aware(s.last_checked))
    enabled = [by_name[n] for n in sorted(by_name)]
    failing = [s for s in enabled if s.failing_since is not None]
    # Working: not failing and polled at least once. A source never polled yet neither keeps
    # "every source fails" from being true nor tells that the network is back.
    working = [s for s in enabled if s.failing_since is None
               and (s.last_success is not None or s.last_checked is not None)]
    down = {n: since for n, since in state.down.items() if n in by_name}
    network_since = state.network_since
    network_up_at = state.network_up_at
    network: list[Alert] = []
    went_down: list[Alert] = []
    came_up: list[Alert] = []

    all_failing = len(failing) >= 2 and not working
    if network_since is not None:
        if not enabled:
            network_since = None
        elif working:
            network.append(Alert(NETWORK_UP, tuple(s.name for s in working),
                                 since=network_since, until=now))
            network_since = None
            network_up_at = now
    elif all_failing:
        together = max(s.failing_since for s in failing)  # type: ignore[type-var]
        if now - together >= alert_after:
            network.append(Alert(NETWORK_DOWN, tuple(s.name for s in enabled),
                                 error=_common_error(failing), since=together))
            network_since = together
    quiet = all_failing or network_since is not None  # the network's fault, not the sources'

    for s in enabled:
        told = down.get(s.name)
        if told is not None:
            if s.failing_since == told:
                continue  # still failing, already said
            # works again, or worked in between and fails anew: either way it recovered
            came_up.append(Alert(SOURCE_UP, (s.name,), since=told,
                                 until=s.last_success or now))
            del down[s.name]
        if s.failing_since is None or quiet or now - s.failing_since < alert_after:
            continue
        if network_up_at is not None and s.failing_since < network_up_at and (
                now - network_up_at < alert_after if s.last_checked is None
                else s.last_checked <= network_up_at):
            continue  # not polled since the network came back: its failure may be the outage's
        went_down.append(Alert(SOURCE_DOWN, (s.name,), error=_error(s.last_error),
                               since=s.failing_since))
        down[s.name] = s.failing_since

    return network + went_down + came_up, AlertState(down, network_since, network_up_at)
