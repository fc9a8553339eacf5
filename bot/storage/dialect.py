"""Where SQLite's SQL and PostgreSQL's differ, and nowhere else.

The table-family modules write one statement for both databases wherever one exists (``ON
CONFLICT`` upserts, ``IS NOT DISTINCT FROM``, row values, window functions; ``?`` placeholders,
which the PostgreSQL transaction turns into ``$n``). What remains is here: the full-text search
(SQLite's FTS5 over the lemmas with BM25; PostgreSQL's tsvector over the same lemmas with
ts_rank), a list of ids passed as one JSON parameter, week arithmetic on times, the integrity
check, and row locks for claims. ``Tx.dialect`` and ``Database.dialect`` name the one in use.
"""

from __future__ import annotations

import re

from bot.storage.migrations import SEARCH_SHADOWS, SEARCH_TABLE


class SQLiteDialect:
    name = "sqlite"

    # An original article's lemmas: title and body in separate columns (a title hit weighs
    # more). Parameters: article id, title lemmas, body lemmas (each joined by spaces).
    search_insert = "INSERT INTO article_search (rowid, title, body) VALUES (?, ?, ?)"
    # (article_id, score) of the best 500 hits of a query, lower score better (BM25, a title
    # hit weighing three times a body hit). Parameter: the query.
    search_hits = ("SELECT rowid AS article_id, bm25(article_search, 3.0, 1.0)"
                   " AS score FROM article_search WHERE article_search MATCH ? ORDER BY score"
                   " LIMIT 500")
    # Ids of the best hits among articles from an id on. Parameters: query, first id, limit.
    search_prefilter = ("SELECT rowid AS id FROM article_search WHERE article_search MATCH ?"
                        "  AND rowid >= ? ORDER BY rank LIMIT ?")
    # Ids of every article a query hits. Parameter: the query.
    search_ids = "SELECT rowid FROM article_search WHERE article_search MATCH ?"
    # Story ids of every article a query hits. Parameter: the query.
    search_stories = ("SELECT a.story_id FROM article_search"
                      " JOIN articles a ON a.id = article_search.rowid"
                      " WHERE article_search MATCH ?")
    # The ids of a JSON array given as one parameter, whatever their number.
    id_list = "SELECT value FROM json_each(?)"
    # Appended to a claim's SELECT (alias o): rows another process claims are passed over.
    skip_locked = ""

    @staticmethod
    def search_query(query: str) -> str:
        """A query as ``bot.delivery.match.fts_query`` writes it (FTS5 syntax)."""
        return query

    @staticmethod
    def search_reset() -> list[str]:
        """Statements that empty the search index, even a damaged one: a fresh, empty index's
        own records replace the damaged ones (an index whose structure record is damaged
        cannot even be opened to be emptied)."""
        out = [SEARCH_TABLE.format(name="article_search_fresh")]
        for part in SEARCH_SHADOWS:
            out += [f"DELETE FROM article_search_{part}",
                    f"INSERT INTO article_search_{part} SELECT * FROM article_search_fresh_{part}"]
        return [*out, "DROP TABLE article_search_fresh"]

    @staticmethod
    def weeks_since(column: str) -> str:
        """Whole weeks from a time parameter to ``column`` (not before it)."""
        return f"CAST((julianday({column}) - julianday(?)) / 7 AS INTEGER)"

    @staticmethod
    def integrity(quick: bool) -> str:
        return "PRAGMA quick_check" if quick else "PRAGMA integrity_check"


# ts_rank's weights for the labels {D, C, B, A}: a title (A) hit weighs three times a body (B)
# hit, as in the SQLite index's BM25.
_WEIGHTS = "'{0.1, 0.1, 0.333333, 1.0}'"
_TSQUERY = "to_tsquery('simple', ?)"


class PostgresDialect:
    name = "postgresql"

    search_insert = ("INSERT INTO article_search (article_id, tsv) VALUES (?,"
                     " setweight(to_tsvector('simple', ?), 'A')"
                     " || setweight(to_tsvector('simple', ?), 'B'))")
    search_hits = (f"SELECT s.article_id, CAST(-ts_rank({_WEIGHTS}, s.tsv, q) AS numeric)"
                   f" AS score FROM {_TSQUERY} q, article_search s WHERE s.tsv @@ q"
                   " ORDER BY score LIMIT 500")
    search_prefilter = (f"SELECT s.article_id AS id FROM {_TSQUERY} q, article_search s"
                        " WHERE s.tsv @@ q AND s.article_id >= ?"
                        " ORDER BY ts_rank(s.tsv, q) DESC LIMIT ?")
    search_ids = f"SELECT article_id FROM article_search WHERE tsv @@ {_TSQUERY}"
    search_stories = ("SELECT a.story_id FROM article_search"
                      " JOIN articles a ON a.id = article_search.article_id"
                      f" WHERE article_search.tsv @@ {_TSQUERY}")
    id_list = "SELECT CAST(value AS bigint) FROM jsonb_array_elements_text(CAST(? AS jsonb))"
    skip_locked = " FOR UPDATE OF o SKIP LOCKED"

    @staticmethod
    def search_query(query: str) -> str:
        return tsquery(query)

    @staticmethod
    def search_reset() -> list[str]:
        return ["DELETE FROM article_search"]

    @staticmethod
    def weeks_since(column: str) -> str:
        return (f"CAST(FLOOR(EXTRACT(EPOCH FROM ({column} - CAST(? AS timestamptz)))"
                " / 604800) AS integer)")

    @staticmethod
    def integrity(quick: bool) -> str:
        # The server checks its own pages (checksums, WAL); a query that answers is the check.
        return "SELECT 'ok'"


Dialect = SQLiteDialect | PostgresDialect
SQLITE = SQLiteDialect()
POSTGRES = PostgresDialect()

# FTS5 as fts_query and the story prefilter write it: "term" or "term"* joined by AND / OR
# (bare words and parentheses are read too).
_FTS_TOKEN = re.compile(r'\s*(?:"((?:[^"]|"")*)"(\*?)|(\()|(\))|([^\s"()*]+)(\*?))')


def tsquery(query: str) -> str:
    """The tsquery (to_tsquery's syntax) of an FTS5 query: ``"хим"* AND "завод"`` ->
    ``'хим':* & 'завод'``. Terms are quoted, so no character of a term is an operator; a
    query without terms gives the empty string (which matches nothing)."""
    out: list[str] = []
    pos = 0
    while pos < len(query):
        m = _FTS_TOKEN.match(query, pos)
        if m is None or m.end() == pos:
            break
        pos = m.end()
        quoted, qstar, opening, closing, bare, bstar = m.groups()
        if opening:
            out.append("(")
        elif closing:
            out.append(")")
        elif bare is not None and bare.upper() in ("AND", "OR", "NOT"):
            out.append({"AND": "&", "OR": "|", "NOT": "& !"}[bare.upper()])
        else:
            term = (quoted.replace('""', '"') if quoted is not None else bare)
            star = qstar if quoted is not None else bstar
            if not term.strip():
                continue
            if out and out[-1] not in ("&", "|", "& !", "("):
                out.append("&")  # FTS5: terms side by side are all required
            out.append("'" + term.replace("\\", "\\\\").replace("'", "''") + "'"
                       + (":*" if star else ""))
    while out and out[-1] in ("&", "|", "& !", "("):
        out.pop()
    return " ".join(out)
