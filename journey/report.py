"""The per-run HTML report: one static, self-contained file with inline CSS and inline SVG charts.

``render_report`` opens the DuckDB file read-only, runs a handful of aggregate queries (every chart is computed
in SQL, so a million customers cost the same as ten), closes the connection and renders
``templates/report.html.j2`` with jinja2 (autoescaped). Every table the report reads is optional: a section whose
table or columns are missing says so instead of failing, so the report also works on a database where the policy
step never ran.

``screenshot`` renders a report in headless Chromium (Debian's ``chromium`` package) and writes a PNG; it returns
False when Chromium is not installed or does not produce the file.
"""

from __future__ import annotations

import json
import logging
import math
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import jinja2

from journey.feeds import feed_specs

log = logging.getLogger(__name__)

REPORT_FILE = "report.html"
TEMPLATES_DIR = Path(__file__).with_name("templates")
TEMPLATE = "report.html.j2"

MINUS, EN_DASH = "\u2212", "\u2013"  # typographic minus for negative numbers; en dash for ranges
TIMES = "\u00d7"  # multiplication sign after a lift ("1.80" and the sign)

HISTOGRAM_BINS = 20
TOP_ROWS = 10
MAX_LISTED_KEYS = 8  # offending keys shown per data-quality finding
SCREENSHOT_TIMEOUT_S = 60

# Band colours: a sequential scale from calm to alarming; each passes WCAG AA for large text on white.
BAND_COLOURS = {
    "low": "#2f855a",
    "medium": "#b7791f",
    "high": "#dd6b20",
    "critical": "#c53030",
}
# Fallback bands (contract.md) for a database without reference.ref_risk_bands.
DEFAULT_BANDS = (("low", 0.0, 0.3), ("medium", 0.3, 0.5), ("high", 0.5, 0.7), ("critical", 0.7, 1.000001))
# Okabe-Ito: distinguishable with colour-vision deficiencies.
FACTOR_PALETTE = ("#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00", "#999999", "#f0e442")
NEUTRAL_COLOUR = "#4a5568"
DECISION_COLOURS = {
    "act": "#2b6cb0",
    "monitor": "#718096",
    "suppressed": "#b7791f",
    "holdout": "#805ad5",
    "skipped_bad_data": "#c53030",
}
APPROVAL_COLOURS = {
    "pending": "#b7791f",
    "approved": "#2f855a",
    "rejected": "#c53030",
    "not_required": "#718096",
}
SEVERITY_ORDER = {"error": 0, "exception": 0, "warning": 1, "info": 2}
FEEDS = tuple(feed_specs())  # the feed schema (dbt_project.yml var `feeds`)
TIMESTAMP_COLUMNS = ("decided_at", "logged_at", "evaluated_at", "created_at")


# --------------------------------------------------------------------------------------------- catalog / SQL


@dataclass(frozen=True)
class Catalog:
    """Which tables and columns exist, so every query can be written defensively."""

    columns: Mapping[str, frozenset[str]]

    @classmethod
    def read(cls, con: duckdb.DuckDBPyConnection) -> Catalog:
        rows = con.execute(
            "select table_schema, table_name, column_name from information_schema.columns"
            " where table_catalog = current_database()"
        ).fetchall()
        found: dict[str, set[str]] = {}
        for schema, table, column in rows:
            found.setdefault(f"{schema}.{table}".lower(), set()).add(column.lower())
        return cls({name: frozenset(cols) for name, cols in found.items()})

    def has(self, table: str, *columns: str) -> bool:
        cols = self.columns.get(table.lower())
        return cols is not None and all(column.lower() in cols for column in columns)

    def cols(self, table: str) -> frozenset[str]:
        return self.columns.get(table.lower(), frozenset())


def _records(con: duckdb.DuckDBPyConnection, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
    cursor = con.execute(sql, list(params))
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    return value


# ------------------------------------------------------------------------------------------------ formatting


def _is_missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def fmt_int(value: Any) -> str:
    if _is_missing(value):
        return "—"
    return f"{round(float(value)):,}".replace("-", MINUS)


def fmt_num(value: Any, digits: int = 2) -> str:
    if _is_missing(value):
        return "—"
    return f"{float(value):,.{digits}f}".replace("-", MINUS)


def fmt_signed(value: Any, digits: int = 2) -> str:
    if _is_missing(value):
        return "—"
    number = float(value)
    text = f"{abs(number):,.{digits}f}"
    if float(text.replace(",", "")) == 0:
        return f"±{text}"
    return f"+{text}" if number > 0 else f"{MINUS}{text}"


def fmt_pct(value: Any, digits: int = 1) -> str:
    if _is_missing(value):
        return "—"
    return f"{float(value) * 100:,.{digits}f}%".replace("-", MINUS)


def fmt_money(value: Any) -> str:
    if _is_missing(value):
        return "—"
    number = float(value)
    return fmt_num(number, 0 if number == round(number) else 2)


def fmt_seconds(value: Any) -> str:
    if _is_missing(value):
        return "—"
    seconds = float(value)
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {rest:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def fmt_label(value: Any) -> str:
    """``time_in_state_friction`` -> ``time in state friction``."""
    return "—" if value is None else str(value).replace("_", " ")


def fmt_date(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


# ---------------------------------------------------------------------------------------------------- charts


def _nice_max(value: float) -> float:
    """A round axis maximum >= value (1, 2, 2.5, 5 times a power of ten)."""
    if value <= 0:
        return 1.0
    exponent = math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        candidate = step * 10**exponent
        if candidate >= value:
            return float(candidate)
    return float(10 ** (exponent + 1))


def _ticks(maximum: float, count: int = 4) -> list[float]:
    return [maximum * i / count for i in range(count + 1)]


@dataclass
class BarChart:
    """Horizontal bars: label on the left, bar, value on the right. Geometry is computed here."""

    title: str
    description: str
    rows: list[dict[str, Any]] = field(default_factory=list)
    width: int = 480
    label_width: int = 150
    value_width: int = 90
    row_height: int = 30
    bar_height: int = 18

    @property
    def height(self) -> int:
        return max(1, len(self.rows)) * self.row_height + 8

    @property
    def track(self) -> int:
        return self.width - self.label_width - self.value_width


def bar_chart(
    title: str,
    items: Iterable[tuple[str, float, str]],
    *,
    total: float | None = None,
    width: int = 480,
    label_width: int = 150,
) -> BarChart:
    """items: (label, count, colour). Values are shown with their share of ``total`` (default: the sum)."""
    materialized = [(label, float(value or 0), colour) for label, value, colour in items]
    whole = total if total is not None else sum(value for _, value, _ in materialized)
    peak = max((value for _, value, _ in materialized), default=0.0) or 1.0
    chart = BarChart(title=title, description="", width=width, label_width=label_width)
    parts = []
    for index, (label, value, colour) in enumerate(materialized):
        share = value / whole if whole else 0.0
        length = 0.0 if value <= 0 else max(2.0, chart.track * value / peak)
        chart.rows.append(
            {
                "label": label,
                "value": value,
                "value_text": fmt_int(value),
                "share_text": _share(share) if whole else "",
                "colour": colour,
                "y": 4 + index * chart.row_height,
                "length": round(length, 1),
            }
        )
        parts.append(f"{label}: {fmt_int(value)}" + (f" ({_share(share)})" if whole else ""))
    chart.description = f"{title}. " + "; ".join(parts) + "." if parts else f"{title}: no rows."
    return chart


def _share(share: float) -> str:
    """Whole percents, but never round a non-empty bar down to 0%."""
    if 0 < share < 0.001:
        return "<0.1%"
    return fmt_pct(share, 1 if share < 0.1 else 0)


def _band_of(score: float, bands: Sequence[tuple[str, float, float]]) -> str | None:
    for name, low, high in bands:
        if low <= score < high:
            return name
    return bands[-1][0] if bands and score >= bands[-1][1] else None


def histogram_chart(
    counts: Mapping[int, int], bands: Sequence[tuple[str, float, float]], *, bins: int = HISTOGRAM_BINS
) -> dict[str, Any]:
    """Vertical bars over [0, 1] in ``bins`` equal bins, coloured by the band of each bin's midpoint."""
    width, height = 560, 260
    left, right, top, bottom = 62, 12, 26, 44
    plot_w, plot_h = width - left - right, height - top - bottom
    peak = max(counts.values(), default=0)
    y_max = _nice_max(peak) if peak >= 4 else max(4.0, float(peak))
    bin_w = plot_w / bins
    bars = []
    for index in range(bins):
        low, high = index / bins, (index + 1) / bins
        band = _band_of((low + high) / 2, bands)
        count = counts.get(index, 0)
        bar_h = max(1.5, plot_h * count / y_max) if count and y_max else 0  # a non-empty bin stays visible
        bars.append(
            {
                "x": round(left + index * bin_w + 1, 2),
                "y": round(top + plot_h - bar_h, 2),
                "w": round(bin_w - 2, 2),
                "h": round(bar_h, 2),
                "count": count,
                "colour": BAND_COLOURS.get(band or "", NEUTRAL_COLOUR),
                "tip": f"risk score {low:.2f}{EN_DASH}{high:.2f}: {count:,} customer{'' if count == 1 else 's'}"
                + (f" ({band})" if band else ""),
            }
        )
    y_ticks = [
        {"y": round(top + plot_h - plot_h * tick / y_max, 2), "label": fmt_int(tick)}
        for tick in _ticks(y_max)
        if tick == round(tick)
    ]
    x_ticks = [{"x": round(left + plot_w * i / 10, 2), "label": f"{i / 10:.1f}"} for i in range(0, 11, 2)]
    thresholds = [
        {"x": round(left + plot_w * low, 2), "label": name} for name, low, _ in bands if 0 < low < 1
    ]
    band_labels = []
    for name, low, high in bands:
        mid = (max(low, 0.0) + min(high, 1.0)) / 2
        band_labels.append(
            {
                "x": round(left + plot_w * mid, 2),
                "label": name,
                "colour": BAND_COLOURS.get(name, NEUTRAL_COLOUR),
            }
        )
    populated = [f"{b['tip']}" for b in bars if b["count"]]
    return {
        "width": width,
        "height": height,
        "left": left,
        "top": top,
        "plot_w": plot_w,
        "plot_h": plot_h,
        "bottom_y": top + plot_h,
        "bars": bars,
        "y_ticks": y_ticks,
        "x_ticks": x_ticks,
        "thresholds": thresholds,
        "band_labels": band_labels,
        "description": "Histogram of risk scores in bins of "
        + f"{1 / bins:.2f}. "
        + ("; ".join(populated) if populated else "No scored customers."),
    }


# -------------------------------------------------------------------------------------------------- sections


def _kpis(con: duckdb.DuckDBPyConnection, cat: Catalog, as_of: Any) -> dict[str, Any] | None:
    table = "marts.kpi_overview"
    if not cat.has(table):
        return None
    if as_of is not None and cat.has(table, "as_of_date"):
        rows = _records(con, f"select * from {table} where as_of_date = cast(? as date)", [str(as_of)])
        if rows:
            return {k: _plain(v) for k, v in rows[0].items()}
    order = "order by as_of_date desc" if cat.has(table, "as_of_date") else ""
    rows = _records(con, f"select * from {table} {order} limit 1")
    return {k: _plain(v) for k, v in rows[0].items()} if rows else None


def _completeness(kpi: Mapping[str, Any] | None, con: duckdb.DuckDBPyConnection, cat: Catalog) -> list[dict]:
    """Per feed: input, staged, rejected, collapsed duplicates, completeness."""
    table = "quality.feed_accounting"
    if cat.has(table, "source", "input_records", "staged_records"):
        extra = [c for c in ("rejected_records", "collapsed_duplicates", "completeness") if cat.has(table, c)]
        select = ", ".join(["source", "input_records", "staged_records", *extra])
        rows = _records(con, f"select {select} from {table}")
        order = {feed: index for index, feed in enumerate(FEEDS)}
        rows.sort(key=lambda row: (order.get(row["source"], len(order)), str(row["source"])))
        for row in rows:
            if row.get("completeness") is None and row["input_records"]:
                row["completeness"] = row["staged_records"] / row["input_records"]
        return rows
    if not kpi:
        return []
    return [
        {
            "source": feed,
            "input_records": kpi.get(f"{feed}_input_records"),
            "staged_records": kpi.get(f"{feed}_staged_records"),
            "completeness": kpi.get(f"{feed}_completeness"),
        }
        for feed in FEEDS
        if f"{feed}_input_records" in kpi
    ]


def _bands(con: duckdb.DuckDBPyConnection, cat: Catalog) -> list[tuple[str, float, float]]:
    table = "reference.ref_risk_bands"
    if cat.has(table, "risk_band", "min_score", "max_score"):
        order = "band_order" if cat.has(table, "band_order") else "min_score"
        rows = con.execute(f"select risk_band, min_score, max_score from {table} order by {order}").fetchall()
        if rows:
            return [(str(name), float(low), float(high)) for name, low, high in rows]
    return list(DEFAULT_BANDS)


def _band_descriptions(con: duckdb.DuckDBPyConnection, cat: Catalog) -> dict[str, str]:
    table = "reference.ref_risk_bands"
    if not cat.has(table, "risk_band", "description"):
        return {}
    return {
        str(name): str(text)
        for name, text in con.execute(f"select risk_band, description from {table}").fetchall()
    }


def _risk(con: duckdb.DuckDBPyConnection, cat: Catalog) -> dict[str, Any] | None:
    table = "marts.customer_risk_scores"
    if not cat.has(table, "customer_id", "risk_score"):
        return None
    bands = _bands(con, cat)
    descriptions = _band_descriptions(con, cat)
    flags = [c for c in ("needs_human_review", "is_high_value") if cat.has(table, c)]
    flag_sql = "".join(f", count(*) filter (where {c}) as {c}" for c in flags)
    stats = _records(
        con,
        f"""
        select
            count(*) as customers,
            count(risk_score) as scored,
            avg(risk_score) as mean_score,
            quantile_cont(risk_score, 0.5) as median_score,
            quantile_cont(risk_score, 0.9) as p90_score,
            max(risk_score) as max_score
            {flag_sql}
        from {table}
        """,
    )[0]
    histogram = dict(
        con.execute(
            f"""
            select
                least(greatest(cast(floor(risk_score * {HISTOGRAM_BINS}) as integer), 0), {HISTOGRAM_BINS - 1})
                    as bin,
                count(*) as customers
            from {table}
            where risk_score is not null
            group by 1
            """
        ).fetchall()
    )
    band_counts: dict[str, int] = {}
    if cat.has(table, "risk_band"):
        band_counts = {
            str(band): int(count)
            for band, count in con.execute(
                f"select coalesce(risk_band, '(none)'), count(*) from {table} group by 1"
            ).fetchall()
        }
    known = [name for name, _, _ in bands]
    band_items = [(name, band_counts.get(name, 0), BAND_COLOURS.get(name, NEUTRAL_COLOUR)) for name in known]
    band_items += [
        (name, band_counts[name], NEUTRAL_COLOUR) for name in sorted(set(band_counts) - set(known))
    ]
    return {
        "stats": stats,
        "bands_from_config": cat.has("reference.ref_risk_bands", "risk_band"),
        "has_descriptions": bool(descriptions),
        "bands": [
            {
                "name": name,
                "low": low,
                "high": min(high, 1.0),
                "colour": BAND_COLOURS.get(name, NEUTRAL_COLOUR),
                "description": _meaning(descriptions.get(name)),
            }
            for name, low, high in bands
        ],
        "band_counts": band_counts,
        "histogram": histogram_chart(histogram, bands),
        "band_chart": bar_chart(
            "Customers by risk band", band_items, total=stats["customers"], label_width=90
        ),
    }


def _meaning(description: str | None) -> str | None:
    """``Score in [0, 0.3): no action expected`` -> ``no action expected`` (the range is shown separately)."""
    if not description:
        return None
    head, sep, tail = description.partition("):")
    if not sep:
        head, sep, tail = description.partition("]:")
    return tail.strip() if sep and head.lower().startswith("score") else description


def _contribution_columns(cat: Catalog, table: str) -> list[str]:
    return sorted(c for c in cat.cols(table) if c.endswith("_contribution"))


def _top_risks(con: duckdb.DuckDBPyConnection, cat: Catalog) -> dict[str, Any] | None:
    table = "marts.customer_risk_scores"
    if not cat.has(table, "customer_id", "risk_score"):
        return None
    contributions = _contribution_columns(cat, table)
    wanted = [
        c
        for c in ("risk_band", "top_risk_factor", "is_high_value", "needs_human_review")
        if cat.has(table, c)
    ]
    select = ["scores.customer_id", "scores.risk_score", *(f"scores.{c}" for c in wanted + contributions)]
    join = ""
    states = "marts.journey_states"
    if cat.has(states, "customer_id"):
        extra = [c for c in ("segment", "journey_stage", "account_value", "is_stalled") if cat.has(states, c)]
        if extra:
            select += [f"states.{c}" for c in extra]
            join = f"left join {states} as states on states.customer_id = scores.customer_id"
    rows = _records(
        con,
        f"""
        select {", ".join(select)}
        from {table} as scores
        {join}
        where scores.risk_score is not null
        order by scores.risk_score desc, scores.customer_id
        limit {TOP_ROWS}
        """,
    )
    factors = [c.removesuffix("_contribution") for c in contributions]
    colours = {f: FACTOR_PALETTE[i % len(FACTOR_PALETTE)] for i, f in enumerate(factors)}
    track = 180
    for row in rows:
        segments, x = [], 0.0
        for factor, column in zip(factors, contributions, strict=True):
            value = float(row.get(column) or 0.0)
            if value <= 0:
                continue
            w = track * min(value, 1.0)
            segments.append(
                {
                    "x": round(x, 2),
                    "w": round(w, 2),
                    "colour": colours[factor],
                    "tip": f"{fmt_label(factor)}: {value:.3f}",
                }
            )
            x += w
        row["segments"] = segments
        row["bar_title"] = (
            f"{row['customer_id']}: risk {float(row['risk_score']):.3f} = "
            + " + ".join(s["tip"] for s in segments)
            if segments
            else f"{row['customer_id']}: risk {float(row['risk_score']):.3f}"
        )
        row["band_colour"] = BAND_COLOURS.get(str(row.get("risk_band")), NEUTRAL_COLOUR)
        if "account_value" in row:
            row["account_value"] = _plain(row["account_value"])
    return {
        "rows": rows,
        "track": track,
        "legend": [{"name": fmt_label(f), "colour": colours[f]} for f in factors],
        "has_states": bool(join),
        "has_top_factor": "top_risk_factor" in wanted,
    }


def _changes(con: duckdb.DuckDBPyConnection, cat: Catalog) -> dict[str, Any] | None:
    table = "marts.customer_risk_changes"
    if not cat.has(table, "customer_id", "risk_score_delta"):
        return None
    cols = cat.cols(table)
    optional = [
        c
        for c in (
            "previous_risk_score",
            "current_risk_score",
            "previous_risk_band",
            "current_risk_band",
            "previous_as_of_date",
            "current_as_of_date",
            "top_moving_factor",
            "top_moving_factor_delta",
            "explanation",
        )
        if c in cols
    ]
    rows = _records(
        con,
        f"""
        select customer_id, risk_score_delta{"".join(", " + c for c in optional)}
        from {table}
        where risk_score_delta is not null
        order by abs(risk_score_delta) desc, customer_id
        limit {TOP_ROWS}
        """,
    )
    band_moved = (
        "count(*) filter (where previous_risk_band is distinct from current_risk_band"
        " and previous_risk_band is not null)"
        if {"previous_risk_band", "current_risk_band"} <= cols
        else "null"
    )
    stats = _records(
        con,
        f"""
        select
            count(*) as customers,
            count(risk_score_delta) as compared,
            count(*) filter (where risk_score_delta > 0) as rose,
            count(*) filter (where risk_score_delta < 0) as fell,
            {band_moved} as band_moved
        from {table}
        """,
    )[0]
    first_date = None
    if "current_as_of_date" in cols:
        first_date = con.execute(f"select max(current_as_of_date) from {table}").fetchone()[0]
    for row in rows:
        delta = float(row["risk_score_delta"])
        row["direction"] = "up" if delta > 0 else "down" if delta < 0 else "flat"
    return {"rows": rows, "stats": stats, "as_of": first_date}


def _scope(
    con: duckdb.DuckDBPyConnection,
    cat: Catalog,
    table: str,
    *,
    run_id: Any,
    as_of: Any,
    date_column: str,
) -> tuple[str, list[Any], str]:
    """A where clause that narrows a policy table to this report's as_of_date, else to this run, else to the
    latest run. The date comes first: the decision log is append-only and deduplicated, so a rerun on the same
    date adds rows only for customers whose inputs changed, and its run_id alone would show just those."""
    cols = cat.cols(table)
    if as_of is not None and date_column in cols:
        found = con.execute(
            f"select count(*) from {table} where cast({date_column} as date) = cast(? as date)", [str(as_of)]
        ).fetchone()[0]
        if found:
            return (
                f"where cast({date_column} as date) = cast(? as date)",
                [str(as_of)],
                f"as of {fmt_date(as_of)}",
            )
    if run_id and "run_id" in cols:
        found = con.execute(f"select count(*) from {table} where run_id = ?", [str(run_id)]).fetchone()[0]
        if found:
            return "where run_id = ?", [str(run_id)], f"run {run_id}"
    stamp = next((c for c in TIMESTAMP_COLUMNS if c in cols), None)
    if "run_id" in cols and stamp:
        latest = con.execute(
            f"select run_id from {table} where run_id is not null order by {stamp} desc nulls last limit 1"
        ).fetchone()
        if latest:
            return "where run_id = ?", [latest[0]], f"latest run {latest[0]}"
    return "", [], "all rows"


def _grouped(
    con: duckdb.DuckDBPyConnection, table: str, column: str, where: str, params: list[Any]
) -> list[tuple[str, int]]:
    return [
        (str(value), int(count))
        for value, count in con.execute(
            f"select coalesce(cast({column} as varchar), '(none)') as value, count(*) as n"
            f" from {table} {where} group by 1 order by 2 desc, 1",
            params,
        ).fetchall()
    ]


def _policy(con: duckdb.DuckDBPyConnection, cat: Catalog, *, run_id: Any, as_of: Any) -> dict[str, Any]:
    log_table, interventions = "policy.decision_log", "policy.interventions"
    result: dict[str, Any] = {"ran": False, "decisions": None, "approvals": None, "actions": None}
    if cat.has(log_table, "decision"):
        where, params, scope = _scope(
            con, cat, log_table, run_id=run_id, as_of=as_of, date_column="as_of_date"
        )
        relation = log_table
        stamp = next((c for c in TIMESTAMP_COLUMNS if c in cat.cols(log_table)), None)
        if stamp and cat.has(log_table, "customer_id"):
            # one row per customer: the latest decision it got in scope (a rerun may have logged a newer one)
            relation = (
                f"(select * from {log_table} {where} qualify row_number() over"
                f" (partition by customer_id order by {stamp} desc nulls last) = 1) as latest"
            )
            where = ""
        counts = _grouped(con, relation, "decision", where, params)
        total = sum(n for _, n in counts)
        result["ran"] = True
        result["decisions"] = {
            "scope": scope,
            "total": total,
            "chart": bar_chart(
                "Customers evaluated, by decision",
                [(fmt_label(name), n, DECISION_COLOURS.get(name, NEUTRAL_COLOUR)) for name, n in counts],
            ),
        }
    if cat.has(interventions, "intervention_id"):
        where, params, scope = _scope(
            con, cat, interventions, run_id=run_id, as_of=as_of, date_column="generated_at"
        )
        result["ran"] = True
        total = con.execute(f"select count(*) from {interventions} {where}", params).fetchone()[0]
        if cat.has(interventions, "approval_status"):
            counts = _grouped(con, interventions, "approval_status", where, params)
            result["approvals"] = {
                "scope": scope,
                "total": total,
                "chart": bar_chart(
                    "Policy interventions, by approval status",
                    [(fmt_label(name), n, APPROVAL_COLOURS.get(name, NEUTRAL_COLOUR)) for name, n in counts],
                ),
            }
        if cat.has(interventions, "recommended_action"):
            counts = _grouped(con, interventions, "recommended_action", where, params)
            result["actions"] = {
                "scope": scope,
                "total": total,
                "chart": bar_chart(
                    "Policy interventions, by recommended action",
                    [(fmt_label(name), n, "#2b6cb0") for name, n in counts],
                    label_width=200,
                    width=520,
                ),
            }
    return result


IMPACT_METRIC_ORDER = ("churn_risk_delta", "success", "csat_delta", "revenue_saved")
IMPACT_STATUS_TONES = {
    "significant_improvement": "ok",
    "significant_harm": "error",
    "sample_ratio_mismatch": "error",
    "not_significant": "neutral",
    "insufficient_data": "warning",
    "not_measurable": "neutral",
}
IMPACT_CHART_ROWS = 12  # estimated effects drawn per metric (overall first, then the largest groups)
GATE_TONES = {"pass": "ok", "fail": "error", "not measured": "warning"}


def forest_chart(title: str, rows: Sequence[Mapping[str, Any]], *, digits: int = 3) -> dict[str, Any]:
    """Effects as points with their confidence intervals as horizontal error bars, and a line at 0.

    rows: label, effect, ci_lower, ci_upper, tone ('ok' / 'error' / 'neutral'). Geometry is computed here.
    """
    width, label_width, value_width, row_height, top, bottom = 640, 190, 150, 26, 8, 30
    plot_w = width - label_width - value_width
    lows = [float(r["ci_lower"]) for r in rows] + [0.0]
    highs = [float(r["ci_upper"]) for r in rows] + [0.0]
    low, high = min(lows), max(highs)
    span = high - low or 1.0
    low, high = low - span * 0.06, high + span * 0.06

    def x_of(value: float) -> float:
        return round(label_width + plot_w * (value - low) / (high - low), 2)

    colours = {"ok": "#2f855a", "error": "#c53030", "neutral": "#2b6cb0"}
    drawn, parts = [], []
    for index, row in enumerate(rows):
        y = top + index * row_height + row_height / 2
        effect, lower, upper = float(row["effect"]), float(row["ci_lower"]), float(row["ci_upper"])
        interval = f"{fmt_signed(lower, digits)} to {fmt_signed(upper, digits)}"
        drawn.append(
            {
                "label": row["label"],
                "y": round(y, 2),
                "cx": x_of(effect),
                "x1": x_of(lower),
                "x2": x_of(upper),
                "colour": colours.get(row.get("tone", "neutral"), colours["neutral"]),
                "value_text": fmt_signed(effect, digits),
                "tip": f"{row['label']}: effect {fmt_signed(effect, digits)}, interval {interval}",
            }
        )
        parts.append(f"{row['label']}: {fmt_signed(effect, digits)} ({interval})")
    bottom_y = top + len(rows) * row_height
    ticks = []
    for i in range(5):
        value = low + (high - low) * i / 4
        ticks.append({"x": x_of(value), "label": fmt_signed(value, digits)})
    return {
        "title": title,
        "width": width,
        "height": bottom_y + bottom,
        "label_width": label_width,
        "plot_right": label_width + plot_w,
        "top": top,
        "bottom_y": bottom_y,
        "zero_x": x_of(0.0),
        "rows": drawn,
        "ticks": ticks,
        "description": f"{title}. Effect and confidence interval per group: " + "; ".join(parts) + ".",
    }


def _impact(con: duckdb.DuckDBPyConnection, cat: Catalog) -> dict[str, Any] | None:
    """Treatment effects (with error-bar charts), the holdout split check and the rollout gates."""
    table = "marts.treatment_effects"
    needed = (
        "method",
        "metric",
        "grouping_name",
        "grouping_value",
        "effect",
        "ci_lower",
        "ci_upper",
        "status",
    )
    if not cat.has(table, *needed):
        return None
    rows = [
        {k: _plain(v) for k, v in row.items()}
        for row in _records(
            con,
            f"""
            select *
            from {table}
            order by
                method desc,
                case when grouping_name = 'overall' then 0 else 1 end,
                grouping_name,
                n_treated + n_control desc,
                grouping_value
            """,
        )
    ]
    order = {metric: index for index, metric in enumerate(IMPACT_METRIC_ORDER)}
    overall = sorted(
        (row for row in rows if row["grouping_name"] == "overall"),
        key=lambda row: (row["method"] != "randomized", order.get(row["metric"], 99), row["metric"]),
    )
    for row in rows:
        row["tone"] = IMPACT_STATUS_TONES.get(row["status"], "neutral")
    charts = []
    metrics = sorted({row["metric"] for row in rows}, key=lambda m: (order.get(m, 99), m))
    for metric in metrics:
        estimated = [
            row
            for row in rows
            if row["metric"] == metric and row["effect"] is not None and row["ci_lower"] is not None
        ][:IMPACT_CHART_ROWS]
        if not estimated:
            continue
        digits = 0 if metric == "revenue_saved" else 3
        chart_rows = [
            {
                "label": f"{row['method']} · "
                + ("overall" if row["grouping_name"] == "overall" else f"{fmt_label(row['grouping_value'])}"),
                "effect": row["effect"],
                "ci_lower": row["ci_lower"],
                "ci_upper": row["ci_upper"],
                "tone": {"ok": "ok", "error": "error"}.get(row["tone"], "neutral"),
            }
            for row in estimated
        ]
        charts.append(
            {
                "metric": metric,
                "chart": forest_chart(
                    f"Effect on {fmt_label(metric)} (treated minus control)", chart_rows, digits=digits
                ),
            }
        )
    estimable = sum(1 for row in rows if row["effect"] is not None)
    split = None
    if cat.has("marts.holdout_sample_ratio", "population", "grouping_name", "status"):
        found = _records(
            con,
            "select * from marts.holdout_sample_ratio where grouping_name = 'overall' or is_sample_ratio_mismatch"
            " order by population desc, grouping_name <> 'overall', grouping_name, grouping_value",
        )
        split = [{k: _plain(v) for k, v in row.items()} for row in found]
    gates = None
    if cat.has("marts.rollout_gates", "gate", "measured_value", "passed", "status"):
        found = _records(con, "select * from marts.rollout_gates order by gate")
        gate_rows = [{k: _plain(v) for k, v in row.items()} for row in found]
        for row in gate_rows:
            row["tone"] = GATE_TONES.get(row["status"], "neutral")
        measured = [row for row in gate_rows if row["passed"] is not None]
        failed = [row for row in measured if not row["passed"]]
        if failed:
            verdict = "no-go"
        elif gate_rows and len(measured) == len(gate_rows):
            verdict = "go"
        else:
            verdict = "not decidable"
        gates = {
            "rows": gate_rows,
            "verdict": verdict,
            "failed": len(failed),
            "unmeasured": len(gate_rows) - len(measured),
        }
    return {
        "overall": overall,
        "charts": charts,
        "estimable": estimable,
        "total": len(rows),
        "split": split,
        "gates": gates,
    }


# ------------------------------------------------------------------------------------------ what it learned

LEARNING_PARAMETERS = "intermediate.int_learning_parameters"
IMPACT_PARAMETERS = "intermediate.int_impact_parameters"  # confidence_level of every interval
CALIBRATION = "marts.confidence_calibration"
BACKTEST = "marts.risk_score_backtest"
SIGNALS = "marts.signal_effectiveness"
THRESHOLDS = "marts.threshold_recommendations"
ACTIONS = "marts.action_performance"
LEARNING_MARTS = (CALIBRATION, BACKTEST, SIGNALS, THRESHOLDS, ACTIONS)
ORIGIN_COLOURS = {"all": "#0072b2", "feed": "#e69f00", "policy": "#009e73"}
LIFT_COLOUR = "#2b6cb0"
THRESHOLD_ORDER = ("confidence_floor", "act_min_band")  # display order; another parameter follows by name


def _is_short_of_evidence(status: Any) -> bool:
    """'insufficient data', 'follow-up incomplete' and the like: a row whose figures are not to be drawn."""
    text = str(status or "").lower()
    return "insufficient" in text or "incomplete" in text


def _number_or(value: Any, default: float) -> float:
    """``value`` as a float; ``default`` when it is null (0 is a value: a Wilson interval may start at 0)."""
    return default if _is_missing(value) else float(value)


def _has_evidence(row: Mapping[str, Any], *columns: str) -> bool:
    return not _is_short_of_evidence(row.get("status")) and all(not _is_missing(row.get(c)) for c in columns)


def _learning_rows(
    con: duckdb.DuckDBPyConnection,
    cat: Catalog,
    table: str,
    order: Sequence[str],
    as_of: Any = None,
    date_column: str = "as_of_date",
) -> tuple[list[dict[str, Any]], Any]:
    """The table's rows of the report's as_of_date when it has them, else of its latest date (all rows when it
    has no date column), ordered by those of ``order`` that exist (each an optional ``desc``/``nulls last``
    suffix after the column name)."""
    where, params, latest = "", [], None
    if cat.has(table, date_column):
        latest = con.execute(
            f"select coalesce(max({date_column}) filter (where {date_column} = cast(? as date)),"
            f" max({date_column})) from {table}",
            [None if as_of is None else str(as_of)],
        ).fetchone()[0]
        if latest is not None:
            where, params = f"where {date_column} = ?", [latest]
    terms = [term for term in order if cat.has(table, term.split()[0])]
    order_by = f"order by {', '.join(terms)}" if terms else ""
    rows = _records(con, f"select * from {table} {where} {order_by}", params)
    return [{k: _plain(v) for k, v in row.items()} for row in rows], latest


def _parameters(
    con: duckdb.DuckDBPyConnection, cat: Catalog, table: str = LEARNING_PARAMETERS
) -> dict[str, Any]:
    if not cat.has(table):
        return {}
    rows = _records(con, f"select * from {table} limit 1")
    return {k: _plain(v) for k, v in rows[0].items()} if rows else {}


def calibration_chart(title: str, series: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Success rate against mean confidence, one point per confidence bin with its interval as a vertical
    error bar, the points of a series joined, over the diagonal of perfect calibration. Both axes are [0, 1].

    series: name, colour, points (x, y, lower, upper, label, n). Geometry is computed here."""
    size, left, top = 300, 52, 12
    width, height = left + size + 16, top + size + 46

    def x_of(value: float) -> float:
        return round(left + size * min(max(value, 0.0), 1.0), 2)

    def y_of(value: float) -> float:
        return round(top + size * (1 - min(max(value, 0.0), 1.0)), 2)

    drawn, parts = [], []
    for line in series:
        points = []
        for point in line["points"]:
            tip = (
                f"{line['name']} · confidence {point['label']}: success {fmt_pct(point['y'])}"
                f" ({fmt_pct(point['lower'])} to {fmt_pct(point['upper'])}) over {fmt_int(point['n'])} outcomes,"
                f" mean confidence {fmt_num(point['x'], 2)}"
            )
            points.append(
                {
                    "cx": x_of(point["x"]),
                    "cy": y_of(point["y"]),
                    "y1": y_of(point["lower"]),
                    "y2": y_of(point["upper"]),
                    "tip": tip,
                }
            )
            parts.append(tip)
        drawn.append(
            {
                "name": line["name"],
                "colour": line["colour"],
                "points": points,
                "path": " ".join(f"{p['cx']},{p['cy']}" for p in points),
            }
        )
    ticks = [{"value": i / 5, "label": f"{i / 5:.1f}", "x": x_of(i / 5), "y": y_of(i / 5)} for i in range(6)]
    return {
        "title": title,
        "width": width,
        "height": height,
        "left": left,
        "right": left + size,
        "top": top,
        "bottom_y": top + size,
        "series": drawn,
        "ticks": ticks,
        "description": f"{title}. The diagonal is perfect calibration. " + "; ".join(parts) + ".",
    }


def column_chart(
    title: str,
    rows: Sequence[Mapping[str, Any]],
    *,
    reference: float | None = None,
    x_label: str = "",
    y_label: str = "",
) -> dict[str, Any]:
    """Vertical bars with a label under each and its value above, and a dashed reference line (lift 1).

    rows: label, value, value_text, tip, colour. Geometry is computed here."""
    width, height = 560, 250
    left, right, top, bottom = 52, 12, 22, 40
    plot_w, plot_h = width - left - right, height - top - bottom
    peak = max([float(r["value"]) for r in rows] + [reference or 0.0])
    y_max = _nice_max(peak)
    slot = plot_w / max(1, len(rows))
    bars = []
    for index, row in enumerate(rows):
        value = max(float(row["value"]), 0.0)
        bar_h = max(1.5, plot_h * value / y_max) if value else 0.0
        x = left + index * slot
        bars.append(
            {
                **row,
                "x": round(x + slot * 0.15, 2),
                "w": round(slot * 0.7, 2),
                "y": round(top + plot_h - bar_h, 2),
                "h": round(bar_h, 2),
                "mid": round(x + slot / 2, 2),
            }
        )
    leading = y_max / 10 ** math.floor(math.log10(y_max))  # 1, 2, 2.5 or 5
    count = 4 if round(leading) == 2 and leading < 2.4 else 5  # steps of 1, 2 or 5 times a power of ten
    step = y_max / count
    digits = max(0, -math.floor(math.log10(step)))
    y_ticks = [
        {"y": round(top + plot_h - plot_h * t / y_max, 2), "label": fmt_num(t, digits)}
        for t in _ticks(y_max, count)
    ]
    return {
        "title": title,
        "width": width,
        "height": height,
        "left": left,
        "plot_right": left + plot_w,
        "top": top,
        "bottom_y": top + plot_h,
        "bars": bars,
        "y_ticks": y_ticks,
        "x_label": x_label,
        "y_label": y_label,
        "reference_y": None if reference is None else round(top + plot_h - plot_h * reference / y_max, 2),
        "description": f"{title}. " + "; ".join(r["tip"] for r in rows) + ".",
    }


def _calibration(
    con: duckdb.DuckDBPyConnection, cat: Catalog, params: Mapping[str, Any], as_of: Any = None
) -> dict | None:
    if not cat.has(CALIBRATION, "confidence_bin", "success_rate"):
        return None
    rows, shown = _learning_rows(
        con, cat, CALIBRATION, ("origin", "bin_order", "bin_lower", "confidence_bin"), as_of
    )
    summaries = [row for row in rows if row["confidence_bin"] == "all"]
    bins = [row for row in rows if row["confidence_bin"] != "all"]
    origin_order = {name: index for index, name in enumerate(ORIGIN_COLOURS)}
    summaries.sort(key=lambda row: (origin_order.get(row.get("origin"), 9), str(row.get("origin"))))

    def points(origin: Any) -> list[dict[str, Any]]:
        found = []
        for row in bins:
            if row.get("origin", "all") != origin or not _has_evidence(row, "success_rate"):
                continue
            middle = None
            if not _is_missing(row.get("bin_lower")) and not _is_missing(row.get("bin_upper")):
                middle = (row["bin_lower"] + row["bin_upper"]) / 2
            x = row.get("mean_confidence") if not _is_missing(row.get("mean_confidence")) else middle
            if x is None:
                continue
            rate = float(row["success_rate"])
            found.append(
                {
                    "x": float(x),
                    "y": rate,
                    "lower": _number_or(row.get("success_rate_ci_lower"), rate),
                    "upper": _number_or(row.get("success_rate_ci_upper"), rate),
                    "label": row["confidence_bin"],
                    "n": row.get("recorded_outcomes"),
                }
            )
        return found

    origins = [row.get("origin", "all") for row in summaries] or ["all"]
    by_origin = {origin: points(origin) for origin in origins}
    # 'all' always; feed and policy as their own curves only when both have one (else each repeats 'all')
    drawn = ["all"] if by_origin.get("all") else [o for o in origins if by_origin.get(o)][:1]
    split = [o for o in ("feed", "policy") if by_origin.get(o)]
    if len(split) == 2:
        drawn += split
    series = [
        {"name": origin, "colour": ORIGIN_COLOURS.get(origin, NEUTRAL_COLOUR), "points": by_origin[origin]}
        for origin in drawn
    ]
    short = [
        row
        for row in bins
        if row.get("origin", "all") in drawn[:1] and not _has_evidence(row, "success_rate")
    ]
    overall = next(
        (row for row in summaries if row.get("origin") == "all"), summaries[0] if summaries else {}
    )
    return {
        "as_of": shown,
        "summaries": summaries,
        "chart": calibration_chart("Calibration: success rate by confidence bin", series) if series else None,
        "bins_drawn": sum(len(line["points"]) for line in series[:1]),
        "bins_short": [row["confidence_bin"] for row in short if (row.get("recorded_outcomes") or 0) > 0],
        "bins_empty": sum(1 for row in short if not row.get("recorded_outcomes")),
        "recorded_outcomes": overall.get("recorded_outcomes"),
        "min_per_bin": params.get("min_outcomes_per_bin"),
        "legend": [{"name": line["name"], "colour": line["colour"]} for line in series],
        "confidence_level": next(
            (row["confidence_level"] for row in rows if not _is_missing(row.get("confidence_level"))),
            params.get("confidence_level"),
        ),
    }


def _bin_sort_key(row: Mapping[str, Any]) -> tuple:
    for column in ("bin_order", "grouping_order", "band_order", "mean_risk_score"):
        if not _is_missing(row.get(column)):
            return (0, float(row[column]), str(row.get("grouping_value")))
    text = str(row.get("grouping_value"))
    return (1, int(text), text) if text.isdigit() else (2, 0.0, text)


def _bin_direction(rows: Sequence[Mapping[str, Any]]) -> str:
    """Which end of the score bins holds the highest scores, from their mean scores."""
    first, last = rows[0].get("mean_risk_score"), rows[-1].get("mean_risk_score")
    if _is_missing(first) or _is_missing(last) or first == last:
        return "score bin"
    top = rows[0] if first > last else rows[-1]
    return f"score bin ({top['grouping_value']} holds the highest scores)"


def _backtest(con: duckdb.DuckDBPyConnection, cat: Catalog, params: Mapping[str, Any]) -> dict | None:
    if not cat.has(BACKTEST, "scored_date", "grouping_name", "grouping_value"):
        return None

    def read(where: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        found = _records(con, f"select * from {BACKTEST} where {where} order by scored_date desc", params)
        return [{k: _plain(v) for k, v in row.items()} for row in found]

    totals = read("grouping_name = 'all'")  # one row per scored date
    measured = [row for row in totals if _has_evidence(row, "event_rate")]
    pending = [row for row in totals if not _has_evidence(row, "event_rate")]
    result: dict[str, Any] = {
        "dates": len(totals),
        "measured_dates": len(measured),
        "pending": pending[:TOP_ROWS],
        "window_days": params.get("event_window_days"),
        "min_events": params.get("min_events_for_backtest"),
        "latest": None,
        "chart": None,
        "bands": [],
        "history": measured[:TOP_ROWS],
        # the score's drift is known for a date before its follow-up is: the newest scored date's
        "newest": totals[0] if totals and not _is_missing(totals[0].get("score_drift_mean")) else None,
    }
    if not measured:
        return result
    latest = measured[0]
    scored = latest["scored_date"]
    of_date = read("scored_date = ? and grouping_name <> 'all'", [scored])
    score_bins = sorted((row for row in of_date if row["grouping_name"] == "score_bin"), key=_bin_sort_key)
    bands = sorted((row for row in of_date if row["grouping_name"] == "risk_band"), key=_bin_sort_key)
    drawable = [row for row in score_bins if _has_evidence(row, "lift")]
    result["latest"] = latest
    result["bands"] = bands
    if drawable:
        result["chart"] = column_chart(
            f"Lift by score bin, scored {fmt_date(scored)}",
            [
                {
                    "label": str(row["grouping_value"]),
                    "value": float(row["lift"]),
                    "value_text": f"{fmt_num(row['lift'], 2)}{TIMES}",
                    "colour": LIFT_COLOUR,
                    "tip": f"score bin {row['grouping_value']}: {fmt_int(row.get('customers'))} customers,"
                    f" event rate {fmt_pct(row.get('event_rate'))}, lift {fmt_num(row['lift'], 2)}",
                }
                for row in drawable
            ],
            reference=1.0,
            x_label=_bin_direction(drawable),
            y_label="lift",
        )
    return result


def _signals(
    con: duckdb.DuckDBPyConnection, cat: Catalog, params: Mapping[str, Any], as_of: Any = None
) -> dict | None:
    if not cat.has(SIGNALS, "signal_type"):
        return None
    rows, shown = _learning_rows(
        con,
        cat,
        SIGNALS,
        ("effectiveness_rank nulls last", "lift desc nulls last", "signals desc", "signal_type", "source"),
        as_of,
    )
    ranked = [row for row in rows if not _is_missing(row.get("effectiveness_rank"))]
    drawn = [row for row in ranked if not _is_missing(row.get("lift"))][:TOP_ROWS]
    chart = None
    if drawn:
        chart = bar_chart(
            "Lift of the highest-ranked signals (precision / base rate)",
            [
                (f"{fmt_label(r['signal_type'])} · {r.get('source') or '—'}", r["lift"], LIFT_COLOUR)
                for r in drawn
            ],
            total=0,
            label_width=240,
            width=560,
        )
        for row, source in zip(chart.rows, drawn, strict=True):
            row["value_text"] = f"{fmt_num(source['lift'], 2)}{TIMES}"
        chart.description = f"{chart.title}. " + "; ".join(
            f"{r['label']}: {r['value_text']}" for r in chart.rows
        )
    return {
        "as_of": shown,
        "rows": rows,
        "ranked": len(ranked),
        "chart": chart,
        "with_signals": sum(1 for row in rows if (row.get("signals") or 0) > 0),
        "awaiting": sum(int(row.get("signals_awaiting_follow_up") or 0) for row in rows),
        "min_signals": params.get("min_signals_for_ranking"),
        "window_days": params.get("event_window_days"),
    }


def _thresholds(con: duckdb.DuckDBPyConnection, cat: Catalog, as_of: Any = None) -> dict | None:
    if not cat.has(THRESHOLDS, "parameter", "candidate_value"):
        return None
    rows, shown = _learning_rows(
        con, cat, THRESHOLDS, ("parameter", "candidate_order", "candidate_value"), as_of
    )
    parameters = []
    names = sorted(
        {row["parameter"] for row in rows},
        key=lambda name: (
            THRESHOLD_ORDER.index(name) if name in THRESHOLD_ORDER else len(THRESHOLD_ORDER),
            name,
        ),
    )
    for name in names:
        candidates = [row for row in rows if row["parameter"] == name]
        best = next((row for row in candidates if row.get("is_best")), None)
        in_force = next((row for row in candidates if row.get("is_in_force")), None)
        conclusion = next(
            (row["conclusion"] for row in [best, in_force, *candidates] if row and row.get("conclusion")),
            None,
        )
        measured = [
            row
            for row in candidates
            if _has_evidence(row, "expected_net_value", "net_value_ci_lower", "net_value_ci_upper")
        ]
        chart = None
        if measured:
            chart = forest_chart(
                f"Expected net value by {fmt_label(name)} (observational)",
                [
                    {
                        "label": str(row["candidate_value"])
                        + (" · in force" if row.get("is_in_force") else "")
                        + (" · best" if row.get("is_best") else ""),
                        "effect": row["expected_net_value"],
                        "ci_lower": row["net_value_ci_lower"],
                        "ci_upper": row["net_value_ci_upper"],
                        "tone": "ok" if row.get("is_best") else "neutral",
                    }
                    for row in measured
                ],
                digits=0,
            )
        statuses = sorted({str(row.get("status")) for row in candidates if row.get("status")})
        parameters.append(
            {
                "name": name,
                "candidates": len(candidates),
                "best": best,
                "in_force": in_force,
                "conclusion": conclusion,
                "setting_in_force": next(
                    (row["setting_in_force"] for row in candidates if row.get("setting_in_force")), None
                ),
                "chart": chart,
                "statuses": statuses,
                "short": not measured,
            }
        )
    return {"as_of": shown, "parameters": parameters}


def _actions(con: duckdb.DuckDBPyConnection, cat: Catalog, as_of: Any = None) -> dict | None:
    if not cat.has(ACTIONS, "recommended_action"):
        return None
    rows, shown = _learning_rows(
        con,
        cat,
        ACTIONS,
        ("is_worse_than_nothing desc nulls last", "interventions desc", "recommended_action"),
        as_of,
    )
    for row in rows:
        row["tone"] = (
            "error"
            if row.get("is_worse_than_nothing")
            else ("warning" if _is_short_of_evidence(row.get("status")) else "neutral")
        )
    return {
        "as_of": shown,
        "rows": rows,
        "flagged": [row for row in rows if row.get("is_worse_than_nothing")],
        "measured": sum(1 for row in rows if _has_evidence(row, "success_rate")),
    }


def _learning(con: duckdb.DuckDBPyConnection, cat: Catalog, as_of: Any = None) -> dict[str, Any]:
    """The learning marts (issue 19) as of the report's date (else their latest): each part is None when its
    mart is not in the database."""
    params = _parameters(con, cat)
    if cat.has(
        IMPACT_PARAMETERS, "confidence_level"
    ):  # the level of every interval, unless a row says its own
        params["confidence_level"] = _parameters(con, cat, IMPACT_PARAMETERS).get("confidence_level")
    return {
        "missing": [table for table in LEARNING_MARTS if not cat.has(table)],
        "params": params,
        "calibration": _calibration(con, cat, params, as_of),
        "backtest": _backtest(con, cat, params),
        "signals": _signals(con, cat, params, as_of),
        "thresholds": _thresholds(con, cat, as_of),
        "actions": _actions(con, cat, as_of),
    }


# ---------------------------------------------------------------------------------- data-quality history

CHECK_HISTORY = "ops.check_history"
DQ_METRICS = "quality.dq_metrics"
DQ_ANOMALIES = "quality.dq_metric_anomalies"
DQ_SCHEMA_CHANGES = "quality.dq_schema_changes"
DQ_MONITOR_PARAMETERS = "reference.ref_dq_monitor_parameters"
DQ_HISTORY_TABLES = (CHECK_HISTORY, DQ_METRICS, DQ_ANOMALIES, DQ_SCHEMA_CHANGES)
GRID_RUNS = 14  # run dates in the check grid
CHART_RUNS = 15  # run dates in a metric's chart
MAX_METRIC_CHARTS = 24  # anomalous metrics drawn (the feeds' volumes are always drawn)
MAX_LISTED_CHANGES = 50  # schema and check-status changes listed
VOLUME_METRIC = "records_delivered"
SHARE_METRICS = ("share", "null_share", "rejected_share")
CHECK_TYPE_ORDER = ("source_freshness", "data_test", "expectation")
STATUS_RANK = {"error": 0, "fail": 1, "warn": 2, "skipped": 3, "absent": 4, "pass": 5}
ANOMALY_COLOUR, VALUE_COLOUR = "#c53030", "#2b6cb0"


def _monitor_parameters(con: duckdb.DuckDBPyConnection, cat: Catalog) -> dict[str, float | None]:
    """z_threshold, min_history_runs and window_runs from the seed (None when the table or a row is missing)."""
    found: dict[str, float | None] = {"z_threshold": None, "min_history_runs": None, "window_runs": None}
    if not cat.has(DQ_MONITOR_PARAMETERS, "parameter", "value"):
        return found
    for name, value in con.execute(
        f"select parameter, try_cast(value as double) from {DQ_MONITOR_PARAMETERS}"
        " where parameter in ('z_threshold', 'min_history_runs', 'window_runs')"
    ).fetchall():
        found[str(name)] = None if value is None else float(value)
    return found


def _history_dates(con: duckdb.DuckDBPyConnection, table: str, as_of: Any, runs: int) -> list[date]:
    """The table's last ``runs`` as_of_dates up to the report's date (all of them when it has none), oldest
    first."""
    rows = con.execute(
        f"""
        select distinct as_of_date from {table}
        where ? is null or as_of_date <= cast(? as date)
        order by as_of_date desc
        limit {runs}
        """,
        [None if as_of is None else str(as_of)] * 2,
    ).fetchall()
    return sorted(row[0] for row in rows)


def _cell_title(row: Mapping[str, Any], when: date, status: str) -> str:
    text = f"{row['check_id']} on {fmt_date(when)}: {status}"
    if row.get("failing_count"):
        text += f", {fmt_int(row['failing_count'])} failing"
    if row.get("message") and status != "pass":
        text += f" ({str(row['message'])[:160]})"
    return text


def _grid_rows(found: Sequence[Mapping[str, Any]], dates: Sequence[date]) -> list[dict[str, Any]]:
    """One row per check with a cell per run date (``absent`` where the check has no result that day)."""
    checks: dict[tuple[str, str, str], dict[date, Mapping[str, Any]]] = {}
    for row in found:
        checks.setdefault((row["check_home"], row["check_type"], row["check_id"]), {})[row["as_of_date"]] = (
            row
        )
    rows = []
    for (home, kind, check_id), by_date in checks.items():
        latest = by_date[max(by_date)]
        cells = []
        for when in dates:
            result = by_date.get(when)
            status = str(result["status"]) if result else "absent"
            title = _cell_title(result, when, status) if result else f"{check_id} on {fmt_date(when)}: absent"
            cells.append({"date": when, "status": status, "title": title})
        rows.append(
            {
                "check_id": check_id,
                "check_home": home,
                "check_type": kind,
                "relation_name": latest.get("relation_name"),
                "severity": latest.get("severity"),
                "cells": cells,
                "latest_status": cells[-1]["status"],
            }
        )
    rows.sort(key=lambda r: (STATUS_RANK.get(r["latest_status"], 9), r["check_id"]))
    return rows


def _grid_groups(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows grouped by check_home and check_type (dbt first, freshness before tests)."""
    keys = sorted(
        {(r["check_home"], r["check_type"]) for r in rows},
        key=lambda k: (
            str(k[0]) != "dbt",
            CHECK_TYPE_ORDER.index(k[1]) if k[1] in CHECK_TYPE_ORDER else 9,
            str(k),
        ),
    )
    return [
        {
            "check_home": home,
            "check_type": kind,
            "label": f"{fmt_label(home)} · {fmt_label(kind)}",
            "rows": [r for r in rows if (r["check_home"], r["check_type"]) == (home, kind)],
        }
        for home, kind in keys
    ]


def _check_grid(con: duckdb.DuckDBPyConnection, cat: Catalog, as_of: Any) -> dict[str, Any] | None:
    """The checks that did not pass on at least one of the last GRID_RUNS run dates, a cell per date."""
    if not cat.has(CHECK_HISTORY, "as_of_date", "check_id", "check_home", "check_type", "status"):
        return None
    dates = _history_dates(con, CHECK_HISTORY, as_of, GRID_RUNS)
    if not dates:
        return {"dates": [], "groups": [], "rows": [], "others": 0, "others_absent": 0, "checks": 0}
    optional = ", ".join(
        f"history.{c}" if cat.has(CHECK_HISTORY, c) else f"null as {c}"
        for c in ("relation_name", "severity", "failing_count", "message")
    )
    window = "history.as_of_date between cast(? as date) and cast(? as date)"
    bounds = [dates[0], dates[-1]]
    found = _records(
        con,
        f"""
        with flagged as (
            select check_home, check_type, check_id
            from {CHECK_HISTORY} as history
            where {window}
            group by all
            having count(*) filter (where status <> 'pass') > 0
        )
        select history.check_home, history.check_type, history.check_id, history.as_of_date, history.status,
            {optional}
        from {CHECK_HISTORY} as history
        inner join flagged using (check_home, check_type, check_id)
        where {window}
        """,
        bounds * 2,
    )
    counts = con.execute(
        f"""
        select
            count(*) as checks,
            count(*) filter (where passing = runs and runs < ?) as others_absent
        from (
            select
                count(distinct as_of_date) as runs,
                count(distinct as_of_date) filter (where status = 'pass') as passing
            from {CHECK_HISTORY} as history
            where {window}
            group by check_home, check_type, check_id
        )
        """,
        [len(dates), *bounds],
    ).fetchone()
    rows = _grid_rows(found, dates)
    return {
        "dates": dates,
        "groups": _grid_groups(rows),
        "rows": rows,
        "checks": int(counts[0]),
        "others": int(counts[0]) - len(rows),
        "others_absent": int(counts[1]),
    }


def _metric_text(metric: Any, value: Any) -> str:
    if metric in SHARE_METRICS:
        return fmt_pct(value, 1)
    if metric in (VOLUME_METRIC, "row_count"):
        return fmt_int(value)
    return fmt_num(value, 3)


def metric_chart(
    title: str,
    points: Sequence[tuple[date, float]],
    *,
    median: float | None,
    half_band: float | None,
    is_anomaly: bool,
    metric: str | None = None,
) -> dict[str, Any]:
    """A small line chart of a metric over its run dates: the baseline median as a dashed line, the band
    median +/- half_band shaded, the last (today's) point marked, in red when it is an anomaly.

    points: (as_of_date, metric_value), oldest first. Geometry is computed here."""
    width, height, left, right, top, bottom = 300, 118, 56, 10, 10, 24
    plot_w, plot_h = width - left - right, height - top - bottom
    values = [value for _, value in points]
    # a metric that is never negative (a count, a share) keeps its band at or above 0
    floor = 0.0 if values and min(values) >= 0 else -math.inf
    band_low = None if median is None else max(floor, median - (half_band or 0.0))
    band_high = None if median is None else median + (half_band or 0.0)
    if median is not None:
        values += [band_low, band_high]
    low, high = min(values, default=0.0), max(values, default=1.0)
    pad = (high - low) * 0.08 or (abs(high) * 0.1 or 1.0)
    low, high = low - pad, high + pad

    def y_of(value: float) -> float:
        return round(top + plot_h * (high - value) / (high - low), 2)

    def x_of(index: int) -> float:
        return round(left + (plot_w * index / (len(points) - 1) if len(points) > 1 else plot_w / 2), 2)

    drawn = [
        {"x": x_of(i), "y": y_of(v), "tip": f"{fmt_date(d)}: {_metric_text(metric, v)}"}
        for i, (d, v) in enumerate(points)
    ]
    band = None
    if median is not None and half_band:
        upper, lower = y_of(band_high), y_of(band_low)
        band = {"y": upper, "h": round(lower - upper, 2)}
    today = drawn[-1] if drawn else None
    parts = [p["tip"] for p in drawn]
    baseline = (
        f" Baseline median {_metric_text(metric, median)}"
        + (
            f", band {_metric_text(metric, band_low)} to {_metric_text(metric, band_high)}"
            if half_band
            else ""
        )
        + "."
        if median is not None
        else " No baseline yet."
    )
    return {
        "title": title,
        "width": width,
        "height": height,
        "left": left,
        "right": left + plot_w,
        "top": top,
        "bottom_y": top + plot_h,
        "points": drawn,
        "path": " ".join(f"{p['x']},{p['y']}" for p in drawn),
        "today": today,
        "today_colour": ANOMALY_COLOUR if is_anomaly else VALUE_COLOUR,
        "median_y": None if median is None else y_of(median),
        "band": band,
        "y_labels": [
            {"y": y_of(value), "label": _metric_text(metric, value)}
            for value in sorted({high - pad, low + pad}, reverse=True)
        ],
        "first_date": fmt_date(points[0][0]) if len(points) > 1 else "",
        "last_date": fmt_date(points[-1][0]) if points else "",
        "description": f"{title}: "
        + "; ".join(parts)
        + "."
        + baseline
        + (" Today's value is an anomaly." if is_anomaly else ""),
    }


def _metric_history(
    con: duckdb.DuckDBPyConnection, cat: Catalog, keys: Sequence[str], as_of: Any
) -> dict[str, list[tuple[date, float]]]:
    """metric_key -> its (as_of_date, value) on the last CHART_RUNS run dates of quality.dq_metrics."""
    if not keys or not cat.has(DQ_METRICS, "as_of_date", "metric_key", "metric_value"):
        return {}
    dates = _history_dates(con, DQ_METRICS, as_of, CHART_RUNS)
    if not dates:
        return {}
    found: dict[str, list[tuple[date, float]]] = {}
    for key, when, value in con.execute(
        f"""
        select metric_key, as_of_date, metric_value from {DQ_METRICS}
        where list_contains(?, metric_key) and as_of_date between ? and ? and metric_value is not null
        order by metric_key, as_of_date
        """,
        [list(keys), dates[0], dates[-1]],
    ).fetchall():
        found.setdefault(key, []).append((when, float(value)))
    return found


def _judged(row: Mapping[str, Any], min_history: float | None) -> bool:
    return min_history is None or (row.get("baseline_runs") or 0) >= min_history


def _metric_card(
    row: dict[str, Any], history: Sequence[tuple[date, float]], params: Mapping[str, Any]
) -> dict[str, Any]:
    min_history = params.get("min_history_runs")
    median, width = row.get("baseline_median"), row.get("band_half_width")
    half_band = None if _is_missing(width) or _is_missing(median) else float(width)
    points = list(history)
    if not _is_missing(row.get("metric_value")) and (not points or points[-1][0] != row["as_of_date"]):
        points.append(
            (row["as_of_date"], float(row["metric_value"]))
        )  # today's value, when the history lacks it
    judged = _judged(row, min_history)
    return {
        **row,
        "judged": judged,
        "recording": None
        if judged
        else f"recording history: {fmt_int(row.get('baseline_runs') or 0)} of {fmt_int(min_history)} runs",
        "value_text": _metric_text(row.get("metric"), row.get("metric_value")),
        "median_text": _metric_text(row.get("metric"), median),
        "chart": metric_chart(
            str(row["metric_key"]),
            points,
            median=None if _is_missing(median) else float(median),
            half_band=half_band,
            is_anomaly=bool(row.get("is_anomaly")),
            metric=row.get("metric"),
        ),
    }


def _anomalies(
    con: duckdb.DuckDBPyConnection, cat: Catalog, params: Mapping[str, Any], as_of: Any
) -> dict[str, Any] | None:
    """Today's judged metrics: a chart for each anomaly and each feed's volume, and the table of anomalies."""
    if not cat.has(DQ_ANOMALIES, "as_of_date", "metric_key", "metric", "metric_value", "is_anomaly"):
        return None
    optional = ", ".join(
        c if cat.has(DQ_ANOMALIES, c) else f"null as {c}"
        for c in (
            "monitored_relation",
            "baseline_runs",
            "baseline_median",
            "baseline_mad",
            "band_half_width",
            "robust_z",
            "direction",
        )
    )
    shown = con.execute(f"select max(as_of_date) from {DQ_ANOMALIES}").fetchone()[0]
    volume = f"(metric = '{VOLUME_METRIC}' and monitored_relation like 'feeds.%')"
    rows = [
        {k: _plain(v) for k, v in row.items()}
        for row in _records(
            con,
            f"""
            select * from (
                select as_of_date, metric_key, metric, metric_value, is_anomaly, {optional}
                from {DQ_ANOMALIES}
                where as_of_date = ?
            )
            where is_anomaly or {volume}
            order by is_anomaly desc, abs(robust_z) desc nulls first, metric_key
            limit {MAX_METRIC_CHARTS + len(FEEDS)}
            """,
            [shown],
        )
    ]
    stats = _anomaly_stats(con, cat, params, shown)
    history = _metric_history(con, cat, [r["metric_key"] for r in rows], as_of or shown)
    cards = [_metric_card(row, history.get(row["metric_key"], []), params) for row in rows]
    order = {f"feeds.{feed}": index for index, feed in enumerate(FEEDS)}
    volumes = sorted(
        (c for c in cards if c["metric"] == VOLUME_METRIC and str(c.get("monitored_relation")) in order),
        key=lambda c: order[str(c["monitored_relation"])],
    )
    flagged = [c for c in cards if c.get("is_anomaly")]
    return {
        "as_of": shown,
        "params": dict(params),
        "volumes": volumes,
        "flagged": flagged,
        "charts": flagged + [c for c in volumes if not c.get("is_anomaly")],
        **stats,
    }


def _anomaly_stats(
    con: duckdb.DuckDBPyConnection, cat: Catalog, params: Mapping[str, Any], shown: Any
) -> dict[str, Any]:
    """How many metrics were judged today, how many still record their history, how many are anomalies."""
    minimum = params.get("min_history_runs")
    runs = "baseline_runs" if cat.has(DQ_ANOMALIES, "baseline_runs") else "null"
    judged = "true" if minimum is None else f"coalesce({runs}, 0) >= {float(minimum)}"
    metrics, judged_count, anomalies, fewest = con.execute(
        f"""
        select count(*), count(*) filter (where {judged}), count(*) filter (where is_anomaly),
            min({runs}) filter (where not ({judged}))
        from {DQ_ANOMALIES}
        where as_of_date = ?
        """,
        [shown],
    ).fetchone()
    return {
        "metrics": int(metrics),
        "judged": int(judged_count),
        "recording": int(metrics) - int(judged_count),
        "anomalies": int(anomalies),
        "fewest_runs": fewest,
    }


def _check_changes(con: duckdb.DuckDBPyConnection, current: date, previous: date) -> list[dict[str, Any]]:
    """Checks whose status on ``current`` differs from ``previous`` (a new check that passes is not news)."""
    return _records(
        con,
        f"""
        with today as (
            select check_home, check_type, check_id, status from {CHECK_HISTORY} where as_of_date = ?
        ),

        earlier as (
            select check_home, check_type, check_id, status from {CHECK_HISTORY} where as_of_date = ?
        )

        select
            coalesce(today.check_id, earlier.check_id) as check_id,
            coalesce(today.check_home, earlier.check_home) as check_home,
            coalesce(earlier.status, 'absent') as previous_status,
            coalesce(today.status, 'absent') as status
        from today
        full outer join earlier
            on today.check_home = earlier.check_home
            and today.check_type = earlier.check_type
            and today.check_id = earlier.check_id
        where earlier.status is distinct from today.status
            and not (earlier.status is null and today.status = 'pass')
        order by check_id
        limit {MAX_LISTED_CHANGES}
        """,
        [current, previous],
    )


def _schema_changes(con: duckdb.DuckDBPyConnection, cat: Catalog) -> tuple[list[dict[str, Any]], Any]:
    """The latest run's schema changes and the date they were compared with."""
    needed = ("as_of_date", "relation_name", "column_name", "change_type")
    if not cat.has(DQ_SCHEMA_CHANGES, *needed):
        return [], None
    optional = ", ".join(
        c if cat.has(DQ_SCHEMA_CHANGES, c) else f"null as {c}"
        for c in ("previous_as_of_date", "previous_data_type", "data_type")
    )
    rows = _records(
        con,
        f"""
        select relation_name, column_name, change_type, {optional}
        from {DQ_SCHEMA_CHANGES}
        where as_of_date = (select max(as_of_date) from {DQ_SCHEMA_CHANGES})
        order by relation_name, column_name
        limit {MAX_LISTED_CHANGES}
        """,
    )
    return rows, next((r["previous_as_of_date"] for r in rows if r["previous_as_of_date"]), None)


def _what_changed(
    con: duckdb.DuckDBPyConnection,
    cat: Catalog,
    grid: Mapping[str, Any] | None,
    anomalies: Mapping[str, Any] | None,
) -> dict[str, Any]:
    """Schema changes, checks whose status moved since the previous kept run date, and today's anomalies."""
    dates = (grid or {}).get("dates") or []
    current = dates[-1] if dates else None
    previous = dates[-2] if len(dates) > 1 else None
    schema, schema_previous = _schema_changes(con, cat)
    checks = _check_changes(con, current, previous) if current and previous else []
    flagged = (anomalies or {}).get("flagged") or []
    return {
        "as_of": current or (anomalies or {}).get("as_of"),
        "previous": previous or schema_previous,
        "schema": schema,
        "schema_available": cat.has(DQ_SCHEMA_CHANGES, "relation_name", "change_type"),
        "checks": checks,
        "anomalies": flagged,
        "empty": not (schema or checks or flagged),
    }


def _dq_history(con: duckdb.DuckDBPyConnection, cat: Catalog, as_of: Any = None) -> dict[str, Any]:
    """The data-quality history (issue 20): each part is None when its table is not in the database; a table
    that cannot be read as expected (another version's shape) is one sentence in the page, never a failure."""
    try:
        return {"problem": None, **_dq_history_parts(con, cat, as_of)}
    except duckdb.Error as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        log.warning("data-quality history not shown: %s", reason)
        return {"problem": f"The data-quality history could not be read: {reason}.", "missing": []}


def _dq_history_parts(con: duckdb.DuckDBPyConnection, cat: Catalog, as_of: Any) -> dict[str, Any]:
    params = _monitor_parameters(con, cat)
    grid = _check_grid(con, cat, as_of)
    anomalies = _anomalies(con, cat, params, as_of)
    return {
        "missing": [table for table in DQ_HISTORY_TABLES if not cat.has(table)],
        "params": params,
        "params_available": cat.has(DQ_MONITOR_PARAMETERS, "parameter", "value"),
        "checks": grid,
        "anomalies": anomalies,
        "changes": _what_changed(con, cat, grid, anomalies),
    }


def _finding_level(failure: Mapping[str, Any]) -> str:
    if failure.get("status") == "exception":
        return "exception"
    if failure.get("informational"):
        return "info"
    return "error" if failure.get("severity") == "error" else "warning"


def _dq(dq_summary: Path | None) -> dict[str, Any] | None:
    if dq_summary is None:
        return None
    path = Path(dq_summary)

    def problem(text: str) -> dict[str, Any]:
        return {"problem": text, "findings": [], "path": str(path)}

    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return problem(f"No data-quality summary at {path}: the suites did not run or wrote elsewhere.")
    except (OSError, ValueError) as exc:
        return problem(f"Could not read {path}: {exc}")
    if not isinstance(data, dict):
        return problem(f"{path} is not a data-quality summary (expected a JSON object).")
    findings = []
    for failure in data.get("failures") or []:
        if not isinstance(failure, Mapping):
            continue
        labels = [str(x) for x in (failure.get("offending_rows") or failure.get("offending_keys") or [])]
        count = failure.get("unexpected_count")
        shown = labels[:MAX_LISTED_KEYS]
        more = (
            (count - len(shown))
            if isinstance(count, int) and count > len(shown)
            else len(labels) - len(shown)
        )
        if not more and failure.get("offending_keys_truncated"):
            more = None  # more exist, number unknown
        findings.append(
            {
                "level": _finding_level(failure),
                "id": failure.get("expectation_id") or "?",
                "suite": failure.get("suite"),
                "table": failure.get("table"),
                "description": failure.get("description"),
                "count": count,
                "observed": failure.get("observed"),
                "exception": failure.get("exception"),
                "labels": shown,
                "more": more,
            }
        )
    findings.sort(key=lambda f: (SEVERITY_ORDER.get(f["level"], 9), str(f["id"])))
    totals = data.get("totals") if isinstance(data.get("totals"), Mapping) else {}
    skipped_suites = [
        s for s in data.get("suites") or [] if isinstance(s, Mapping) and s.get("status") == "skipped"
    ]
    levels = {
        level: sum(1 for f in findings if f["level"] == level)
        for level in ("error", "exception", "warning", "info")
    }
    return {
        "problem": (
            f"The data-quality suites could not read the database: {data.get('error')}"
            if data.get("status") == "database_unreadable"
            else None
        ),
        "status": data.get("status"),
        "exit_code": data.get("exit_code"),
        "totals": totals,
        "findings": findings,
        "levels": levels,
        "skipped_suites": skipped_suites,
        "path": str(path),
        "data_docs": (data.get("reports") or {}).get("data_docs")
        if isinstance(data.get("reports"), Mapping)
        else None,
    }


def _run_header(run_info: Mapping[str, Any] | None, kpi: Mapping[str, Any] | None) -> dict[str, Any]:
    info = dict(run_info or {})
    raw_timings = info.pop("stage_timings", None) or info.pop("timings", None) or {}
    timings: list[tuple[str, float]] = []
    if isinstance(raw_timings, Mapping):
        for stage, value in raw_timings.items():
            seconds = value.get("seconds", value.get("elapsed_s")) if isinstance(value, Mapping) else value
            if isinstance(seconds, int | float) and not isinstance(seconds, bool):
                timings.append((str(stage), float(seconds)))
    duration = next(
        (info.pop(k) for k in ("duration_s", "elapsed_s", "total_s") if isinstance(info.get(k), int | float)),
        None,
    )
    if duration is None and timings:
        duration = sum(seconds for _, seconds in timings)
    as_of = info.pop("as_of_date", None) or (kpi or {}).get("as_of_date")
    header = {
        "as_of_date": as_of,
        "run_id": info.pop("run_id", None),
        "status": info.pop("status", None),
        "started_at": info.pop("started_at", None),
        "finished_at": info.pop("finished_at", None),
        "duration": duration,
        "timings": None,
        "details": [],
    }
    if timings:
        chart = bar_chart(
            "Stage timings",
            [(stage, seconds, "#2b6cb0") for stage, seconds in timings],
            label_width=110,
            width=520,
        )
        for row, (_, seconds) in zip(chart.rows, timings, strict=True):
            row["value_text"] = fmt_seconds(seconds)
        chart.description = "Stage timings. " + "; ".join(f"{s}: {fmt_seconds(v)}" for s, v in timings) + "."
        header["timings"] = chart
    for key, value in info.items():
        if isinstance(value, str | int | float | date) and not isinstance(value, bool):
            header["details"].append((fmt_label(key), fmt_date(value)))
    return header


def _status_tone(status: Any) -> str:
    text = str(status or "").lower()
    if not text:
        return "neutral"
    if any(word in text for word in ("error", "fail", "crash", "bad")):
        return "error"
    if any(word in text for word in ("warn", "partial", "skip")):
        return "warning"
    if text in {"ok", "passed", "success", "succeeded", "published", "done"}:
        return "ok"
    return "neutral"


# ------------------------------------------------------------------------------------------------- rendering


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES_DIR)),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        int=fmt_int,
        num=fmt_num,
        signed=fmt_signed,
        pct=fmt_pct,
        money=fmt_money,
        seconds=fmt_seconds,
        label=fmt_label,
        date=fmt_date,
    )
    env.globals.update(band_colours=BAND_COLOURS, status_tone=_status_tone)
    return env


def collect(
    db_path: Path, *, dq_summary: Path | None = None, run_info: Mapping | None = None
) -> dict[str, Any]:
    """Everything the template shows, read from the database (opened read-only and closed here)."""
    began = time.perf_counter()
    db_path = Path(db_path)
    if not db_path.exists():
        raise FileNotFoundError(f"database not found: {db_path}")
    con = duckdb.connect(str(db_path), read_only=True)
    try:
        cat = Catalog.read(con)
        as_of_hint = (run_info or {}).get("as_of_date")
        kpi = _kpis(con, cat, as_of_hint)
        header = _run_header(run_info, kpi)
        context = {
            "header": header,
            "kpi": kpi,
            "completeness": _completeness(kpi, con, cat),
            "risk": _risk(con, cat),
            "top_risks": _top_risks(con, cat),
            "changes": _changes(con, cat),
            "policy": _policy(con, cat, run_id=header["run_id"], as_of=header["as_of_date"]),
            "impact": _impact(con, cat),
            "learning": _learning(con, cat, header["as_of_date"]),
            "dq_history": _dq_history(con, cat, header["as_of_date"]),
            "config_hashes": _config_hashes(con, cat, kpi),
        }
    finally:
        con.close()
    context["dq"] = _dq(dq_summary)
    context["database"] = str(db_path)
    context["generated_at"] = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    context["query_seconds"] = time.perf_counter() - began
    return context


def _config_hashes(con: duckdb.DuckDBPyConnection, cat: Catalog, kpi: Mapping[str, Any] | None) -> list:
    hashes = []
    if kpi and kpi.get("kpi_config_hash"):
        hashes.append(("KPI config", kpi["kpi_config_hash"]))
    if cat.has(LEARNING_PARAMETERS, "learning_config_hash"):
        value = con.execute(f"select max(learning_config_hash) from {LEARNING_PARAMETERS}").fetchone()[0]
        if value:
            hashes.append(("Learning config", value))
    if cat.has("marts.customer_risk_scores", "scoring_config_hash"):
        values = [
            row[0]
            for row in con.execute(
                "select distinct scoring_config_hash from marts.customer_risk_scores"
                " where scoring_config_hash is not null order by 1 limit 3"
            ).fetchall()
        ]
        if values:
            hashes.append(("Scoring config", ", ".join(values)))
    return hashes


def render_report(
    db_path: Path,
    out_dir: Path,
    *,
    dq_summary: Path | None = None,
    run_info: Mapping | None = None,
) -> Path:
    """Write ``out_dir/report.html`` for the database at ``db_path`` and return its path.

    ``dq_summary`` is the ``dq_summary.json`` written by ``journey dq`` (optional; a missing file is reported in
    the page, not raised). ``run_info`` may carry run_id, as_of_date, status, started_at, finished_at,
    stage_timings (stage -> seconds) and duration_s; other scalar keys are listed as run details.
    """
    context = collect(db_path, dq_summary=dq_summary, run_info=run_info)
    html = _environment().get_template(TEMPLATE).render(**context)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / REPORT_FILE
    partial = target.with_name(f".{REPORT_FILE}.{os.getpid()}.tmp")
    partial.write_text(html, encoding="utf-8")
    partial.replace(target)
    return target


# ------------------------------------------------------------------------------------------------ screenshot


def find_chromium() -> str | None:
    """Debian's /usr/bin/chromium, else ``chromium`` (or ``chromium-browser``) on PATH."""
    if Path("/usr/bin/chromium").is_file() and os.access("/usr/bin/chromium", os.X_OK):
        return "/usr/bin/chromium"
    return shutil.which("chromium") or shutil.which("chromium-browser")


def screenshot(html: Path, png: Path, *, width: int = 1280, height: int = 2000) -> bool:
    """Render ``html`` in headless Chromium into ``png``. False when Chromium is absent or produces nothing."""
    browser = find_chromium()
    if browser is None:
        log.info("chromium not found: no screenshot of %s", html)
        return False
    png = Path(png).resolve()
    png.parent.mkdir(parents=True, exist_ok=True)
    png.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory(prefix="journey-chromium-") as profile:
        command = [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            f"--user-data-dir={profile}",
            f"--screenshot={png}",
            f"--window-size={width},{height}",
            Path(html).resolve().as_uri(),
        ]
        try:
            completed = subprocess.run(
                command,
                capture_output=True,
                text=True,
                timeout=SCREENSHOT_TIMEOUT_S,
                check=False,
                env={**os.environ, "HOME": profile},
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            log.warning("chromium screenshot of %s failed: %s", html, exc)
            return False
    if completed.returncode != 0 or not png.is_file() or png.stat().st_size == 0:
        log.warning(
            "chromium exited %s without a screenshot of %s: %s",
            completed.returncode,
            html,
            (completed.stderr or "")[-2000:],
        )
        return False
    return True
