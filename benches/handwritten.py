"""The SQL the hand-written benchmark queries are written in, per engine: the evaluation
moment, windows, decay, caps, rounding and tiers as docs/semantics.md defines them, and
the few functions DuckDB and PostgreSQL spell differently.

A query reads an event's moment as the column `ts` (`dialect.ts('"at"')` in its events
stage) and compares it with `dialect.at(us)`, a moment given as epoch microseconds.
DuckDB reads `ts` as epoch microseconds (integers compare fastest); PostgreSQL keeps the
timestamp and compares it with timestamp literals, the way an analyst writes it there.
"""

import datetime

NOW_S = 1795132800  # 2026-11-20T00:00:00Z, the moment of every benchmark run
US = 1_000_000
DAY = 86_400 * US
WEEK = 7 * DAY
NOW = NOW_S * US


class DuckDB:
    """DuckDB: `ts` in epoch microseconds."""

    def ts(self, x):
        """A timestamp expression as the query's `ts`."""
        return f"epoch_us({x})"

    def at(self, us):
        """The moment `us` (epoch microseconds), comparable with `ts`."""
        return str(us)

    def age_s(self, m):
        """Seconds from an event's `ts` to the moment m."""
        return f"({self.at(m)} - ts) / 1e6"

    def timestamp(self, x):
        """A `ts`-like value (e.g. `max(ts)`) as a TIMESTAMP."""
        return f"make_timestamp({x})"

    def contains(self, x, lit):
        return f"contains({x}, '{lit}')"

    def starts_with(self, x, lit):
        return f"starts_with({x}, '{lit}')"

    def iregex(self, x, alternatives, words=False):
        """x matches one of the alternatives, ignoring case (as whole words when `words`)."""
        b = "\\b" if words else ""
        return f"regexp_matches({x}, '(?i){b}({'|'.join(alternatives)}){b}')"

    def latest(self, value, cond):
        """The value of the latest row (by `ts`) where cond holds."""
        return f"arg_max({value}, ts) FILTER (WHERE {cond})"

    def r2(self, x):
        """A score's rounding: half away from zero, like Funnel's round(x * 100) / 100."""
        return f"(round(({x}) * 100) / 100)"

    def within(self, days, m):
        """`within Nd` seen from moment m: m - N days <= at <= m."""
        return f"(ts >= {self.at(m - days * DAY)} AND ts <= {self.at(m)})"

    def upto(self, m):
        """No window (`ever`): every event up to moment m."""
        return f"(ts <= {self.at(m)})"

    def since(self, a, m):
        """From moment a up to moment m."""
        return f"(ts >= {self.at(a)} AND ts <= {self.at(m)})"

    def between(self, a, b, m):
        """[a, b) seen from moment m (b < m here)."""
        return f"(ts >= {self.at(a)} AND ts < {self.at(b)} AND ts <= {self.at(m)})"

    def half_life(self, days, m):
        """An event's decay factor under `decay half_life Nd` at moment m."""
        return f"pow(0.5, {self.age_s(m)} / {days * 86400})"

    def step(self, pct, days, m):
        """An event's decay factor under `decay P% every Nd` at moment m."""
        return f"pow({1 - pct / 100}, floor({self.age_s(m)} / {days * 86400}))"

    def cap(self, x, c):
        """A rule's `, at most C`: bounds the magnitude of its total."""
        return f"greatest(-{c}, least({c}, {x}))"

    def tier(self, score, bands):
        """A tier set over `score`: the band whose whole-number range holds the score
        rounded to a whole number (half away from zero); NULL in no band. `bands` is
        [(name, lo, hi), ...]."""
        r = f"round({score})"
        whens = " ".join(f"WHEN {r} BETWEEN {lo} AND {hi} THEN '{name}'" for name, lo, hi in bands)
        return f"CASE {whens} END"


class Postgres(DuckDB):
    """PostgreSQL: `ts` stays a timestamp; ages in seconds through `date_part` (a double,
    where `EXTRACT` would give a slow `numeric`); scores round as `numeric` (`round` of a
    double rounds half to even there)."""

    def ts(self, x):
        return x

    def at(self, us):
        moment = datetime.datetime.fromtimestamp(us / US, datetime.timezone.utc)
        return f"TIMESTAMP '{moment:%Y-%m-%d %H:%M:%S}'"

    def age_s(self, m):
        return f"date_part('epoch', {self.at(m)} - ts)"

    def timestamp(self, x):
        return x

    def contains(self, x, lit):
        return f"strpos({x}, '{lit}') > 0"

    def iregex(self, x, alternatives, words=False):
        b = "\\y" if words else ""
        return f"{x} ~* '{b}({'|'.join(alternatives)}){b}'"

    def latest(self, value, cond):
        return f"(array_agg({value} ORDER BY ts DESC) FILTER (WHERE {cond}))[1]"

    def r2(self, x):
        return f"round(CAST(({x}) AS numeric), 2)"


DIALECTS = {"duckdb": DuckDB(), "postgres": Postgres()}
