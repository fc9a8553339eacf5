"""Admin alerts about failing sources (bot/delivery/alerts.py): one message per event, the
network's outage as one message, state kept as JSON between ticks."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from bot.delivery.alerts import (
    NETWORK_DOWN,
    NETWORK_UP,
    SOURCE_DOWN,
    SOURCE_UP,
    Alert,
    AlertState,
    SourceHealth,
    evaluate,
)

T0 = datetime(2025, 7, 16, 8, 0, tzinfo=UTC)
MIN = timedelta(minutes=1)
DNS = "cannot connect to tomsk.gov.ru:443: Temporary failure in name resolution"


def ok(name: str, at: datetime = T0, *, enabled: bool = True) -> SourceHealth:
    return SourceHealth(name, enabled, None, None, last_success=at, last_checked=at)


def bad(name: str, since: datetime, error: str = DNS, *, checked: datetime | None = None,
        last_ok: datetime | None = T0, enabled: bool = True) -> SourceHealth:
    return SourceHealth(name, enabled, since, error, last_success=last_ok,
                        last_checked=checked or since)


class Admins:
    """Ticks the state machine as the bot will: the state goes through JSON (the store)
    between ticks."""

    def __init__(self, alert_after: timedelta = MIN) -> None:
        self.alert_after = alert_after
        self.saved = json.dumps(AlertState().to_json())
        self.log: list[tuple[datetime, Alert]] = []

    def tick(self, at: datetime, sources: list[SourceHealth]) -> list[tuple[str, tuple]]:
        state = AlertState.from_json(json.loads(self.saved))
        alerts, new = evaluate(sources, state, at, self.alert_after)
        self.saved = json.dumps(new.to_json())
        self.log += [(at, a) for a in alerts]
        return [(a.kind, a.sources) for a in alerts]


def test_one_failing_source_is_reported_once_and_its_recovery_once() -> None:
    admins = Admins(MIN)
    fail = T0 + timedelta(seconds=10)
    others = [ok("РИА Томск"), ok("ТВ2")]
    assert admins.tick(fail, [bad("Мэрия", fail), *others]) == []
    assert admins.tick(fail + timedelta(seconds=59), [bad("Мэрия", fail), *others]) == []
    assert admins.tick(fail + MIN, [bad("Мэрия", fail), *others]) == [
        (SOURCE_DOWN, ("Мэрия",))]
    _, alert = admins.log[-1]
    assert alert.error == DNS and alert.since == fail
    for k in range(2, 10):  # no repeats, however long it lasts
        assert admins.tick(fail + k * MIN, [bad("Мэрия", fail), *others]) == []
    back = fail + 10 * MIN
    assert admins.tick(back, [ok("Мэрия", back), *others]) == [(SOURCE_UP, ("Мэрия",))]
    _, alert = admins.log[-1]
    assert alert.since == fail and alert.until == back
    assert admins.tick(back + MIN, [ok("Мэрия", back), *others]) == []


def test_a_failure_shorter_than_alert_after_says_nothing() -> None:
    admins = Admins(timedelta(hours=6))
    fail = T0 + MIN
    for k in range(0, 300, 15):
        assert admins.tick(fail + timedelta(minutes=k), [bad("Мэрия", fail), ok("ТВ2")]) == []
    back = fail + timedelta(hours=5, minutes=59)
    assert admins.tick(back, [ok("Мэрия", back), ok("ТВ2")]) == []
    assert admins.log == []


def test_default_six_hours() -> None:
    admins = Admins(timedelta(hours=6))
    fail = T0
    assert admins.tick(fail + timedelta(hours=5, minutes=59), [bad("Мэрия", fail), ok("ТВ2")]) \
        == []
    assert admins.tick(fail + timedelta(hours=6), [bad("Мэрия", fail), ok("ТВ2")]) == [
        (SOURCE_DOWN, ("Мэрия",))]


def test_a_source_that_recovered_between_ticks_and_fails_again() -> None:
    admins = Admins(MIN)
    first = T0
    assert admins.tick(first + MIN, [bad("Мэрия", first), ok("ТВ2")]) == [
        (SOURCE_DOWN, ("Мэрия",))]
    again = first + 5 * MIN  # it worked at 4 min, unseen between two ticks, and fails anew
    assert admins.tick(again, [bad("Мэрия", again, last_ok=first + 4 * MIN), ok("ТВ2")]) == [
        (SOURCE_UP, ("Мэрия",))]
    assert admins.log[-1][1].until == first + 4 * MIN
    assert admins.tick(again + MIN, [bad("Мэрия", again, last_ok=first + 4 * MIN),
                                     ok("ТВ2")]) == [(SOURCE_DOWN, ("Мэрия",))]


def test_everything_failing_at_once_is_one_network_message() -> None:
    admins = Admins(MIN)
    names = [f"Источник {i:02d}" for i in range(13)]
    # the outage starts at T0; each source fails at its next poll within 40 s
    since = {n: T0 + timedelta(seconds=3 * i) for i, n in enumerate(names)}
    last = max(since.values())

    def all_bad(at: datetime) -> list[SourceHealth]:
        return [bad(n, since[n], checked=at) for n in names]

    # individual sources cross alert_after before all of them have been failing that long
    assert admins.tick(T0 + MIN + timedelta(seconds=10), all_bad(T0 + MIN)) == []
    assert admins.tick(last + MIN, all_bad(last + MIN)) == [(NETWORK_DOWN, tuple(names))]
    _, alert = admins.log[-1]
    assert alert.since == last and alert.error == DNS
    for k in range(2, 30):
        assert admins.tick(last + k * MIN, all_bad(last + k * MIN)) == []
    assert not any(a.kind == SOURCE_DOWN for _, a in admins.log)
    # the network comes back: the first source polled works
    back = last + 30 * MIN
    now_sources = [ok(names[0], back)] + [bad(n, since[n], checked=last + 29 * MIN)
                                          for n in names[1:]]
    assert admins.tick(back, now_sources) == [(NETWORK_UP, (names[0],))]
    assert admins.log[-1][1].since == last and admins.log[-1][1].until == back
    # the others wait out their backoff: not reported for the outage that just ended
    assert admins.tick(back + 5 * MIN, now_sources) == []
    # polled again: most work, one still fails (a real failure now) -> reported
    later = back + 6 * MIN
    sources = [ok(n, later) for n in names[:12]] + [bad(names[12], since[names[12]],
                                                       "HTTP 500 Internal Server Error",
                                                       checked=later)]
    assert admins.tick(later, sources) == [(SOURCE_DOWN, (names[12],))]
    assert admins.log[-1][1].error == "HTTP 500 Internal Server Error"
    assert [a.kind for _, a in admins.log] == [NETWORK_DOWN, NETWORK_UP, SOURCE_DOWN]


def test_without_last_checked_a_source_waits_alert_after_from_the_return() -> None:
    admins = Admins(MIN)
    blind = [SourceHealth("A", True, T0, DNS, last_success=T0 - MIN),
             SourceHealth("B", True, T0, DNS, last_success=T0 - MIN)]
    assert admins.tick(T0 + MIN, blind) == [(NETWORK_DOWN, ("A", "B"))]
    back = T0 + 10 * MIN
    state = [SourceHealth("A", True, None, None, last_success=back), blind[1]]
    assert admins.tick(back, state) == [(NETWORK_UP, ("A",))]
    assert admins.tick(back + timedelta(seconds=30), state) == []
    assert admins.tick(back + MIN, state) == [(SOURCE_DOWN, ("B",))]


def test_a_source_broken_before_the_outage() -> None:
    admins = Admins(MIN)
    broken = T0
    assert admins.tick(T0 + MIN, [bad("Дума", broken, "HTTP 404 Not Found"), ok("ТВ2"),
                                  ok("НГС")]) == [(SOURCE_DOWN, ("Дума",))]
    outage = T0 + 10 * MIN
    during = [bad("Дума", broken, DNS, checked=outage + MIN), bad("ТВ2", outage),
              bad("НГС", outage)]
    assert admins.tick(outage + MIN, during) == [(NETWORK_DOWN, ("Дума", "НГС", "ТВ2"))]
    back = outage + 20 * MIN
    after = [bad("Дума", broken, "HTTP 404 Not Found", checked=back), ok("ТВ2", back),
             ok("НГС", back)]
    assert admins.tick(back, after) == [(NETWORK_UP, ("НГС", "ТВ2"))]  # Дума: said already
    fixed = back + 5 * MIN
    assert admins.tick(fixed, [ok("Дума", fixed), ok("ТВ2", back), ok("НГС", back)]) == [
        (SOURCE_UP, ("Дума",))]


def test_recovering_with_the_network_says_both() -> None:
    admins = Admins(MIN)
    admins.tick(T0 + MIN, [bad("Дума", T0), ok("ТВ2")])
    outage = T0 + 5 * MIN
    admins.tick(outage + MIN, [bad("Дума", T0), bad("ТВ2", outage)])
    back = outage + 10 * MIN
    assert admins.tick(back, [ok("Дума", back), ok("ТВ2", back)]) == [
        (NETWORK_UP, ("Дума", "ТВ2")), (SOURCE_UP, ("Дума",))]


def test_a_single_source_is_never_the_network() -> None:
    admins = Admins(MIN)
    assert admins.tick(T0 + MIN, [bad("Мэрия", T0)]) == [(SOURCE_DOWN, ("Мэрия",))]
    admins2 = Admins(MIN)
    # one enabled source failing, the other disabled: still one source
    assert admins2.tick(T0 + MIN, [bad("Мэрия", T0), ok("ТВ2", enabled=False)]) == [
        (SOURCE_DOWN, ("Мэрия",))]


def test_disabled_sources_do_not_count_and_are_forgotten_silently() -> None:
    admins = Admins(MIN)
    # two enabled failing + a disabled one that works: the network (of the enabled ones)
    assert admins.tick(T0 + MIN, [bad("A", T0), bad("B", T0), ok("C", enabled=False)]) == [
        (NETWORK_DOWN, ("A", "B"))]
    admins = Admins(MIN)
    assert admins.tick(T0 + MIN, [bad("A", T0), ok("B")]) == [(SOURCE_DOWN, ("A",))]
    assert admins.tick(T0 + 2 * MIN, [bad("A", T0, enabled=False), ok("B")]) == []
    assert json.loads(admins.saved)["down"] == {}
    # enabled again, still failing: it is a new report (the admin turned it back on)
    assert admins.tick(T0 + 3 * MIN, [bad("A", T0), ok("B")]) == [(SOURCE_DOWN, ("A",))]
    # removed: forgotten, no message
    assert admins.tick(T0 + 4 * MIN, [ok("B")]) == []
    assert json.loads(admins.saved)["down"] == {}


def test_network_state_is_dropped_when_no_source_is_left() -> None:
    admins = Admins(MIN)
    assert admins.tick(T0 + MIN, [bad("A", T0), bad("B", T0)]) == [(NETWORK_DOWN, ("A", "B"))]
    assert admins.tick(T0 + 2 * MIN, []) == []
    assert json.loads(admins.saved)["network_since"] is None
    assert admins.tick(T0 + 3 * MIN, [ok("A", T0 + 3 * MIN), ok("B", T0 + 3 * MIN)]) == []


def test_a_source_never_polled_counts_neither_way() -> None:
    new = SourceHealth("Новый", True, None, None)
    admins = Admins(MIN)
    assert admins.tick(T0 + MIN, [bad("A", T0), bad("B", T0), new]) == [
        (NETWORK_DOWN, ("A", "B", "Новый"))]
    # the new source is still unpolled: no "network is back", no per-source flood
    assert admins.tick(T0 + 5 * MIN, [bad("A", T0), bad("B", T0), new]) == []
    back = T0 + 6 * MIN
    assert admins.tick(back, [bad("A", T0), bad("B", T0), ok("Новый", back)]) == [
        (NETWORK_UP, ("Новый",))]


def test_two_failing_of_many_are_two_source_messages_not_the_network() -> None:
    admins = Admins(MIN)
    sources = [bad("A", T0, "HTTP 503"), bad("B", T0, "timed out after 20s"), ok("C"), ok("D")]
    assert admins.tick(T0 + MIN, sources) == [(SOURCE_DOWN, ("A",)), (SOURCE_DOWN, ("B",))]
    assert [a.error for _, a in admins.log] == ["HTTP 503", "timed out after 20s"]


def test_order_network_then_down_then_up() -> None:
    state = AlertState(down={"Z": T0})
    sources = [ok("Z", T0 + 5 * MIN), bad("A", T0), bad("M", T0), ok("B")]
    alerts, _ = evaluate(sources, state, T0 + 5 * MIN, MIN)
    assert [(a.kind, a.sources) for a in alerts] == [
        (SOURCE_DOWN, ("A",)), (SOURCE_DOWN, ("M",)), (SOURCE_UP, ("Z",))]


def test_state_survives_a_restart_and_junk() -> None:
    admins = Admins(MIN)
    assert admins.tick(T0 + MIN, [bad("Мэрия", T0), ok("ТВ2")]) == [(SOURCE_DOWN, ("Мэрия",))]
    saved = json.loads(admins.saved)
    assert saved == {"version": 1, "down": {"Мэрия": T0.isoformat()},
                     "network_since": None, "network_up_at": None}
    restarted = Admins(MIN)
    restarted.saved = admins.saved
    assert restarted.tick(T0 + 2 * MIN, [bad("Мэрия", T0), ok("ТВ2")]) == []
    for junk in (None, [], "x", {"version": 2}, {"version": 1, "down": "x"},
                 {"version": 1, "down": {"A": "not a date", "B": 5, "C": T0.isoformat()},
                  "network_since": 7}):
        state = AlertState.from_json(junk)
        assert isinstance(state, AlertState)
        json.dumps(state.to_json())
    assert AlertState.from_json({"version": 1, "down": {"A": "x", "C": T0.isoformat()}}).down \
        == {"C": T0}


def test_evaluate_does_not_change_the_state_it_is_given() -> None:
    state = AlertState(down={"A": T0})
    before = state.to_json()
    evaluate([ok("A", T0 + MIN), bad("B", T0)], state, T0 + 2 * MIN, MIN)
    assert state.to_json() == before


def test_naive_times_are_utc_and_errors_one_line() -> None:
    naive = T0.replace(tzinfo=None)
    sources = [SourceHealth("A", True, naive, "Traceback (most recent call last):\n  boom\n",
                            last_success=naive - MIN, last_checked=naive),
               SourceHealth("B", True, None, None, last_success=naive, last_checked=naive)]
    alerts, state = evaluate(sources, AlertState(), naive + MIN, MIN)
    assert [(a.kind, a.error, a.since) for a in alerts] == [
        (SOURCE_DOWN, "Traceback (most recent call last): boom", T0)]
    assert state.to_json()["down"] == {"A": T0.isoformat()}
    long = "x" * 5000
    alerts, _ = evaluate([bad("A", T0, long), ok("B")], AlertState(), T0 + MIN, MIN)
    assert len(alerts[0].error) == 300


@pytest.mark.parametrize("seconds", [1, 59])
def test_just_before_alert_after_is_quiet(seconds: int) -> None:
    alerts, _ = evaluate([bad("A", T0), ok("B")], AlertState(), T0 + timedelta(seconds=seconds),
                         MIN)
    assert alerts == []
