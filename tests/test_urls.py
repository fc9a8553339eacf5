"""Feed addresses in one spelling, and one feed under two addresses (bot/ingest/urls.py)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.ingest.parse import parse_feed
from bot.ingest.urls import (
    FeedIdentity,
    canonical_url,
    feed_identity,
    feed_url_key,
    normalize_feed_url,
    same_feed,
)
from bot.models import Entry

from conftest import DATA, rss

NORMALIZE = [
    # (given, expected)
    ("https://example.ru/rss", "https://example.ru/rss"),
    ("  https://example.ru/rss \n", "https://example.ru/rss"),
    ("HTTPS://Example.RU/rss", "https://example.ru/rss"),
    ("http://example.ru:80/rss", "http://example.ru/rss"),
    ("https://example.ru:443/rss", "https://example.ru/rss"),
    ("https://example.ru:8443/rss", "https://example.ru:8443/rss"),
    ("http://example.ru:443/rss", "http://example.ru:443/rss"),
    ("https://example.ru", "https://example.ru/"),
    ("https://example.ru./rss", "https://example.ru/rss"),
    ("https://example.ru/rss#top", "https://example.ru/rss"),
    ("https://example.ru/rss/", "https://example.ru/rss/"),  # kept: may be another resource
    ("https://example.ru/a/./b/../rss.xml", "https://example.ru/a/rss.xml"),
    ("https://example.ru/%7Euser/rss", "https://example.ru/~user/rss"),
    ("https://example.ru/a%2fb/rss", "https://example.ru/a%2Fb/rss"),
    ("https://example.ru/новости/rss", "https://example.ru/%D0%BD%D0%BE%D0%B2%D0%BE%D1%81%D1%82%D0"
     "%B8/rss"),
    ("https://томск.рф/rss", "https://xn--j1adfnc.xn--p1ai/rss"),
    ("feed://example.ru/rss", "http://example.ru/rss"),
    ("feed:https://example.ru/rss", "https://example.ru/rss"),
    ("https://example.ru/rss?utm_source=tg&utm_medium=social", "https://example.ru/rss"),
    ("https://example.ru/rss?UTM_Campaign=x", "https://example.ru/rss"),
    ("https://example.ru/rss?yclid=1&fbclid=2&gclid=3&_openstat=4&ysclid=5",
     "https://example.ru/rss"),
    ("https://example.ru/rss?mc_cid=1&mc_eid=2", "https://example.ru/rss"),
    # meaningful parameters stay, in their order and spelling
    ("https://example.ru/index.php?rss=1", "https://example.ru/index.php?rss=1"),
    ("https://example.ru/rss?from=2024&ref=main", "https://example.ru/rss?from=2024&ref=main"),
    ("https://example.ru/rss?b=2&a=1", "https://example.ru/rss?b=2&a=1"),
    ("https://example.ru/rss?b=2&utm_source=x&a=1", "https://example.ru/rss?b=2&a=1"),
    ("https://example.ru/rss?q=a+b&x=%2f", "https://example.ru/rss?q=a+b&x=%2F"),
    ("https://example.ru/rss?flag", "https://example.ru/rss?flag"),
    ("https://example.ru/rss?&&a=1&", "https://example.ru/rss?a=1"),
    ("https://user:token@example.ru/private.rss", "https://user:token@example.ru/private.rss"),
    ("http://[::1]:8080/rss", "http://[::1]:8080/rss"),
    ("http://127.0.0.1:8080/rss", "http://127.0.0.1:8080/rss"),
    ("https://my_host.example.ru/rss", "https://my_host.example.ru/rss"),
    ("https://e.ru/a b?c d=e f", "https://e.ru/a%20b?c%20d=e%20f"),
    ("HTTP://EXAMPLE.RU/A?B=%e2%82%ac", "http://example.ru/A?B=%E2%82%AC"),
]

REFUSED = [None, "", "   ", "example.ru/rss", "/rss", "ftp://example.ru/rss", "file:///etc/passwd",
           "javascript:alert(1)", "mailto:a@b.ru", "https://", "http://example.ru:99999/rss",
           "http://exa mple.ru\n/rss", "https://example.ru/" + "a" * 3000, "feed:ftp://x/rss",
           "https://exa mple.ru/rss", "http://a..b/", "https://-x.ru/", "https://ex%61mple.ru/",
           "https://example.ru:0/", "https://user@/x", "http://[::1/"]


@pytest.mark.parametrize(("given", "expected"), NORMALIZE)
def test_normalize_feed_url(given: str, expected: str) -> None:
    assert normalize_feed_url(given) == expected


@pytest.mark.parametrize("given", REFUSED)
def test_normalize_feed_url_refuses_what_is_no_http_url(given: str | None) -> None:
    assert normalize_feed_url(given) is None


@pytest.mark.parametrize(("given", "_expected"), NORMALIZE)
def test_normalize_feed_url_is_idempotent(given: str, _expected: str) -> None:
    once = normalize_feed_url(given)
    assert normalize_feed_url(once) == once


def test_normalize_feed_url_resolves_against_a_base() -> None:
    assert normalize_feed_url("../rss.xml", "https://example.ru/news/page.html") == \
        "https://example.ru/rss.xml"
    assert normalize_feed_url("//cdn.example.ru/feed", "https://example.ru/") == \
        "https://cdn.example.ru/feed"


SAME_KEY = [
    ("https://example.ru/rss", "http://example.ru/rss"),
    ("https://www.example.ru/rss", "https://example.ru/rss"),
    ("https://example.ru/rss/", "https://example.ru/rss"),
    ("https://example.ru/rss?a=1&b=2", "https://example.ru/rss?b=2&a=1"),
    ("https://EXAMPLE.ru:443/rss?utm_source=x#frag", "http://www.example.ru/rss/"),
    ("feed://example.ru/rss", "https://example.ru/rss"),
    ("https://example.ru", "https://example.ru/"),
]
DIFFERENT_KEY = [
    ("https://example.ru/rss", "https://example.ru/rss?x=1"),  # a parameter may select a feed
    ("https://example.ru/rss", "https://example.ru/RSS"),  # paths are case-sensitive
    ("https://example.ru/rss", "https://news.example.ru/rss"),
    ("https://example.ru/rss", "https://example.ru:8080/rss"),
    ("https://example.ru/rss", "https://example.ru/rss.xml"),
    ("https://a@example.ru/rss", "https://b@example.ru/rss"),
    ("https://example.ru/index.php?rss=1", "https://example.ru/index.php?rss=2"),
]


@pytest.mark.parametrize(("a", "b"), SAME_KEY)
def test_feed_url_key_same(a: str, b: str) -> None:
    assert feed_url_key(a) is not None
    assert feed_url_key(a) == feed_url_key(b)


@pytest.mark.parametrize(("a", "b"), DIFFERENT_KEY)
def test_feed_url_key_different(a: str, b: str) -> None:
    assert feed_url_key(a) != feed_url_key(b)


def test_feed_url_key_of_no_url_is_none() -> None:
    assert feed_url_key("not a url") is None
    assert feed_url_key(None) is None


def test_article_urls_keep_their_own_rules() -> None:
    """Additions only: canonical_url still drops "from" and "ref" from article links."""
    assert canonical_url("https://example.ru/a?from=rss&id=1") == "https://example.ru/a?id=1"
    assert normalize_feed_url("https://example.ru/a?from=rss&id=1") == \
        "https://example.ru/a?from=rss&id=1"


def _entries(ids: list[str]) -> list[Entry]:
    return [Entry(title=f"t{i}", text="x", url=f"https://example.ru/news/{i}", guid=i)
            for i in ids]


def ident(url: str | None = None, ids: list[str] | None = None, *, self_url: str | None = None,
          feed_id: str | None = None) -> FeedIdentity:
    return feed_identity(url, _entries(ids or []), self_url=self_url, feed_id=feed_id)


TEN = [str(i) for i in range(10, 0, -1)]
TWENTY = [str(i) for i in range(20, 0, -1)]

SAME_FEED = [
    # (why, a, b, expected)
    ("one address in two spellings",
     ident("https://www.example.ru/rss/"), ident("http://example.ru/rss"), True),
    ("the ?x=1 trick: same self link",
     ident("https://example.ru/rss?x=1", TEN, self_url="https://example.ru/rss"),
     ident("https://example.ru/rss", TEN, self_url="https://example.ru/rss"), True),
    ("the ?x=1 trick without self link: same entries",
     ident("https://example.ru/rss?x=1", TEN), ident("https://example.ru/rss", TEN), True),
    ("a feed's self link names the other's address (feedburner)",
     ident("https://feeds.feedburner.com/example", TEN, self_url="https://example.ru/feed/"),
     ident("https://example.ru/feed", TEN), True),
    ("same Atom id",
     ident("https://example.ru/atom", TEN, feed_id="tag:example.ru,2024:news"),
     ident("https://example.ru/atom.xml", [*TEN[2:], "0", "-1"],
           feed_id="tag:example.ru,2024:news"), True),
    ("same Atom id, entries unknown on one side",
     ident("https://example.ru/atom", [], feed_id="urn:uuid:1"),
     ident("https://example.ru/atom.xml", TEN, feed_id="urn:uuid:1"), True),
    ("same Atom id but other entries: Blogger label feed",
     ident("https://blog.example.ru/feeds/posts/default", TEN,
           feed_id="tag:blogger.com,1999:blog-1"),
     ident("https://blog.example.ru/feeds/posts/default/-/sport", [f"s{i}" for i in range(10)],
           feed_id="tag:blogger.com,1999:blog-1"), False),
    ("template self link but other entries: category feeds",
     ident("https://example.ru/rss/politics", TEN, self_url="https://example.ru/rss"),
     ident("https://example.ru/rss/sport", [f"s{i}" for i in range(10)],
           self_url="https://example.ru/rss"), False),
    ("same newest ten of twenty",
     ident("https://a.example.ru/rss", TWENTY), ident("https://b.example.ru/rss", TWENTY), True),
    ("same newest ten, in other order",
     ident("https://a.example.ru/rss", TEN), ident("https://b.example.ru/rss", TEN[::-1]), True),
    ("one more entry on one side",
     ident("https://a.example.ru/rss", ["11", *TEN]), ident("https://b.example.ru/rss", TEN),
     False),
    ("small category feed holding the newest entries of the main feed",
     ident("https://example.ru/rss/hot", TEN[:3]), ident("https://example.ru/rss", TWENTY),
     False),
    ("two entries are too few to tell",
     ident("https://a.example.ru/rss", ["1", "2"]), ident("https://b.example.ru/rss", ["1", "2"]),
     False),
    ("nothing in common",
     ident("https://a.example.ru/rss", TEN), ident("https://b.example.ru/rss", TWENTY[:10]),
     False),
    ("two empty identities", FeedIdentity(), FeedIdentity(), False),
]


@pytest.mark.parametrize(("why", "a", "b", "expected"), SAME_FEED,
                         ids=[row[0] for row in SAME_FEED])
def test_same_feed(why: str, a: FeedIdentity, b: FeedIdentity, expected: bool) -> None:
    assert same_feed(a, b) is expected, why
    assert same_feed(b, a) is expected, why + " (swapped)"


def test_identity_keeps_the_newest_ten_and_counts_all() -> None:
    i = ident("https://example.ru/rss", TWENTY)
    assert i.entry_keys == tuple(TWENTY[:10])
    assert i.entry_count == 20


def test_identity_uses_the_link_when_an_entry_has_no_guid() -> None:
    entries = [Entry(title="a", text="x", url="https://example.ru/n/1", guid=None),
               Entry(title="b", text="x", url=None, guid="  g2 ")]
    assert feed_identity(None, entries).entry_keys == ("https://example.ru/n/1", "g2")


def test_identity_round_trips_through_json_and_survives_junk() -> None:
    import json

    i = ident("https://example.ru/rss", TEN, self_url="https://example.ru/rss",
              feed_id="tag:x")
    assert FeedIdentity.from_dict(json.loads(json.dumps(i.as_dict()))) == i
    for junk in (None, 3, "x", [], {"url_key": 5, "entry_keys": "abc", "entry_count": -1},
                 {"entry_keys": [1, None, "a"]}):
        restored = FeedIdentity.from_dict(junk)
        assert isinstance(restored, FeedIdentity)
        assert not same_feed(restored, FeedIdentity())
    assert FeedIdentity.from_dict({"entry_keys": [1, None, "a"]}).entry_keys == ("a",)


def test_same_feed_on_parsed_feeds() -> None:
    """Real parsing: one RSS document served under two addresses is one feed; another
    document from the same site is not."""
    now = datetime.now(UTC).strftime("%a, %d %b %Y %H:%M:%S +0000")
    items = [{"title": f"Новость {i}", "link": f"http://example.ru/n/{i}",
              "guid": f"http://example.ru/n/{i}", "pubDate": now} for i in range(12)]
    body = rss(items).encode()
    other = rss([{**it, "guid": it["guid"] + "-sport", "link": it["link"] + "-sport"}
                 for it in items]).encode()
    first = parse_feed(body, origin="a")
    second = parse_feed(body, origin="b")
    third = parse_feed(other, origin="c")
    a = feed_identity("https://example.ru/rss?x=1", first.entries)
    b = feed_identity("https://example.ru/rss", second.entries)
    c = feed_identity("https://example.ru/rss/sport", third.entries)
    assert same_feed(a, b)
    assert not same_feed(a, c)
    tomsk = parse_feed((DATA / "rss20_tomsk.xml").read_bytes(), origin="t")
    t = feed_identity("https://tomsk.example/rss", tomsk.entries)
    assert len(t.entry_keys) == 3
    assert same_feed(t, feed_identity("https://mirror.example/rss", tomsk.entries))
    assert not same_feed(t, feed_identity("https://mirror.example/rss", tomsk.entries[:2]))
