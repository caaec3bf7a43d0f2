"""The feed generator (`journey generate`): determinism, shape, and every imperfection against its manifest.

Real DuckDB reads the generated files; nothing is mocked. Sizes stay small (2,000 customers).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import re
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest

from journey.generate import (
    DAILY_INJECTIONS,
    DEFAULTS_PATH,
    FEEDS,
    INJECTIONS,
    GeneratorRates,
    Injections,
    add_arguments,
    generate,
    parse_injection_settings,
    parse_rate_overrides,
    run,
)
from tests.conftest import KEYS

CUSTOMERS = 2000
SEED = 20250120
AS_OF = date(2025, 1, 20)
STAGES = ("onboarding", "engagement", "support", "retention", "escalation")
VALID_TRANSITIONS = {
    ("onboarding", "engagement"),
    ("engagement", "support"),
    ("engagement", "retention"),
    ("retention", "support"),
    ("support", "retention"),
    ("support", "escalation"),
    ("escalation", "support"),
    *((stage, "escalation") for stage in STAGES if stage != "escalation"),
}
NEGATIVE = (
    "support_ticket_spike",
    "negative_sentiment",
    "usage_drop",
    "repeat_support_tickets",
    "failed_onboarding_step",
    "support_satisfaction_low",
    "inactivity_warning",
    "low_product_usage",
)
POSITIVE = ("positive_sentiment", "renewal_intent", "usage_recovery")
ACTIONS = (
    "onboarding_nudge_email",
    "onboarding_specialist_call",
    "proactive_outreach",
    "usage_review_checkin",
    "reengagement_campaign",
    "support_manager_followup",
    "renewal_health_check",
    "monitor_only",
)
OUTCOMES = ("resolved", "partial_improvement", "improved_engagement", "no_action_needed", "no_response")

# Rates high enough that every case shows up tens of times in 2,000 customers.
HIGH_RATES = GeneratorRates(
    orphan_signals=0.01,
    orphan_interventions=0.02,
    orphan_outcomes=0.02,
    orphan_signal_refs=0.03,
    invalid_transitions=0.05,
    missing_outcomes=0.25,
    conflicting_signals=0.1,
    exact_duplicates=0.01,
    duplicate_key_conflicts=0.01,
    missing_key=0.01,
    missing_field=0.01,
    wrong_type=0.01,
    out_of_range=0.01,
    unknown_value=0.01,
    unparseable_date=0.01,
    unknown_signal_type=0.01,
)


def sql_list(values: tuple[str, ...] | set[str]) -> str:
    return "[" + ", ".join(f"'{value}'" for value in sorted(values)) + "]"


def connect(folder: Path) -> duckdb.DuckDBPyConnection:
    """A connection with one view per feed (`raw_<feed>`, column `json`), read as the contract says."""
    con = duckdb.connect()
    for feed in FEEDS:
        path = folder / f"{feed}.json"
        con.execute(f"CREATE VIEW raw_{feed} AS SELECT json FROM read_json_objects('{path}', format='auto')")
    return con


def scalar(con: duckdb.DuckDBPyConnection, sql: str) -> object:
    return con.execute(sql).fetchone()[0]


def within(count: int, rate: float, rows: int) -> bool:
    """Binomial tolerance: ``count`` is a plausible draw of ``rows`` trials at ``rate`` (4 sigma)."""
    expected = rate * rows
    return abs(count - expected) <= 4 * math.sqrt(max(expected * (1 - rate), 1.0)) + 1


@pytest.fixture(scope="module")
def high(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    folder = tmp_path_factory.mktemp("high")
    return folder, generate(folder, CUSTOMERS, SEED, rates=HIGH_RATES)


@pytest.fixture(scope="module")
def default(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    folder = tmp_path_factory.mktemp("default")
    return folder, generate(folder, CUSTOMERS, SEED)


@pytest.fixture(scope="module")
def injected(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    """Every injection at its configured strength (generator_defaults.yml), on the default rates."""
    folder = tmp_path_factory.mktemp("injected")
    return folder, generate(folder, CUSTOMERS, SEED, injections=Injections.from_yaml(INJECTIONS))


@pytest.fixture(scope="module")
def daily(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    folder = tmp_path_factory.mktemp("daily")
    return folder, generate(folder, CUSTOMERS, SEED, fmt="ndjson", days=3, rates=HIGH_RATES)


# ------------------------------------------------------------------------------------------ determinism


def test_same_seed_gives_byte_identical_files(tmp_path: Path, default: tuple[Path, dict]) -> None:
    first, _ = default
    generate(tmp_path, CUSTOMERS, SEED)
    for name in [f"{feed}.json" for feed in FEEDS] + ["manifest.json"]:
        assert (tmp_path / name).read_bytes() == (first / name).read_bytes(), name


def test_different_seed_gives_different_files(tmp_path: Path, default: tuple[Path, dict]) -> None:
    first, _ = default
    generate(tmp_path, CUSTOMERS, SEED + 1)
    for feed in FEEDS:
        assert (tmp_path / f"{feed}.json").read_bytes() != (first / f"{feed}.json").read_bytes(), feed


# ----------------------------------------------------------------------------------------------- shape


def test_realistic_shape(default: tuple[Path, dict]) -> None:
    _, manifest = default
    clean = manifest["clean_rows"]
    assert clean["customers"] == CUSTOMERS
    assert 1.8 <= clean["journey_state_log"] / CUSTOMERS <= 2.4
    assert 2.2 <= clean["signals"] / CUSTOMERS <= 2.8
    assert 0.25 <= clean["interventions"] / CUSTOMERS <= 0.36
    assert 0.7 <= clean["outcomes"] / clean["interventions"] <= 0.9
    assert manifest["rows"] == {feed: manifest["rows"][feed] for feed in FEEDS}
    for feed in FEEDS:
        assert manifest["rows"][feed] >= clean[feed]


def test_files_read_back_with_the_manifest_counts(default: tuple[Path, dict]) -> None:
    folder, manifest = default
    con = connect(folder)
    for feed in FEEDS:
        assert scalar(con, f"SELECT count(*) FROM raw_{feed}") == manifest["rows"][feed], feed
    assert json.loads((folder / "manifest.json").read_text()) == manifest


def test_ids_and_values_look_like_the_sample(default: tuple[Path, dict]) -> None:
    folder, _ = default
    con = connect(folder)
    patterns = {"customers": "C", "signals": "S", "interventions": "I", "outcomes": "O"}
    for feed, prefix in patterns.items():
        keys = con.execute(
            f"SELECT DISTINCT (json->>'{KEYS[feed]}') FROM raw_{feed} WHERE json_exists(json, '$.{KEYS[feed]}')"
        )
        assert all(re.fullmatch(rf"{prefix}\d{{7}}", key) for (key,) in keys.fetchall()), feed
    segments = {
        row[0] for row in con.execute("SELECT DISTINCT (json->>'segment') FROM raw_customers").fetchall()
    }
    assert {"SMB", "Mid-Market", "Enterprise"} <= segments
    types = con.execute(
        "SELECT json_type(json, '$.account_value'), json_type(json, '$.tenure_months') FROM raw_customers "
        "WHERE (json->>'customer_id') <= 'C0002000'"
    ).fetchall()
    assert set(types) == {("UBIGINT", "UBIGINT")}


@pytest.mark.parametrize("feeds", ["default", "injected"])
def test_journey_chains_are_consistent(feeds: str, request: pytest.FixtureRequest) -> None:
    folder, _ = request.getfixturevalue(feeds)
    con = connect(folder)
    con.execute(f"""CREATE TABLE log AS
        SELECT DISTINCT (json->>'customer_id') AS customer_id, (json->>'journey_stage') AS stage,
            (json->>'state_entered_at')::DATE AS entered, (json->>'days_in_state')::INTEGER AS days,
            (json->>'previous_stage') AS previous
        FROM raw_journey_state_log WHERE (json->>'customer_id') <= 'C{CUSTOMERS:07d}'""")
    con.execute("""CREATE TABLE chained AS
        SELECT *, lag(stage) OVER w AS prior_stage, lead(entered) OVER w AS next_entered,
            row_number() OVER w AS position
        FROM log WINDOW w AS (PARTITION BY customer_id ORDER BY entered)""")
    assert scalar(con, "SELECT count(DISTINCT customer_id) FROM log") == CUSTOMERS
    assert scalar(con, "SELECT count(*) FROM chained WHERE position = 1 AND previous IS NOT NULL") == 0
    assert scalar(con, "SELECT count(*) FROM chained WHERE position = 1 AND stage <> 'onboarding'") == 0
    assert scalar(con, "SELECT count(*) FROM chained WHERE position > 1 AND previous <> prior_stage") == 0
    assert scalar(con, "SELECT count(*) FROM chained WHERE next_entered <= entered") == 0
    wrong_days = f"""SELECT count(*) FROM chained
        WHERE days <> coalesce(next_entered, DATE '{AS_OF}') - entered"""
    assert scalar(con, wrong_days) == 0
    assert scalar(con, "SELECT max(entered) FROM log") <= AS_OF


@pytest.mark.parametrize("feeds", ["default", "injected"])
def test_signals_interventions_and_outcomes_are_coherent(feeds: str, request: pytest.FixtureRequest) -> None:
    folder, manifest = request.getfixturevalue(feeds)
    con = connect(folder)
    con.execute(f"""CREATE TABLE sig AS SELECT (json->>'signal_id') AS signal_id, (json->>'customer_id') AS customer_id,
            (json->>'signal_type') AS signal_type, (json->>'signal_strength')::DOUBLE AS strength,
            (json->>'detected_at')::DATE AS detected, (json->>'source') AS source, (json->>'journey_stage') AS stage
        FROM raw_signals WHERE (json->>'signal_id') <= 'S{manifest["clean_rows"]["signals"]:07d}'""")
    con.execute(f"""CREATE TABLE log AS SELECT (json->>'customer_id') AS customer_id,
            (json->>'state_entered_at')::DATE AS entered, (json->>'journey_stage') AS stage
        FROM raw_journey_state_log WHERE (json->>'customer_id') <= 'C{CUSTOMERS:07d}'""")
    assert scalar(con, "SELECT count(*) FROM sig WHERE strength < 0 OR strength > 1") == 0
    assert (
        scalar(con, f"SELECT count(*) FROM sig WHERE signal_type NOT IN {sql_list(NEGATIVE + POSITIVE)}") == 0
    )
    assert scalar(con, "SELECT count(DISTINCT source) FROM sig WHERE source IN ('automated', 'manual')") == 2
    assert scalar(con, f"SELECT count(*) FROM sig WHERE signal_type IN {sql_list(POSITIVE)}") > 0
    # each signal lies inside one of its customer's states, with that state's stage
    outside = """SELECT count(*) FROM sig WHERE NOT EXISTS (
        SELECT 1 FROM log WHERE log.customer_id = sig.customer_id AND log.stage = sig.stage
            AND log.entered <= sig.detected)"""
    assert scalar(con, outside) == 0
    assert scalar(con, "SELECT max(detected) FROM sig") <= AS_OF

    con.execute(f"""CREATE TABLE cited AS
        SELECT (json->>'intervention_id') AS intervention_id, (json->>'customer_id') AS customer_id,
            (json->>'generated_at')::DATE AS generated, (json->>'recommended_action') AS action,
            (json->>'confidence')::DOUBLE AS confidence, json_array_length(json, '$.triggered_by_signals') AS n,
            unnest(json_extract_string(json, '$.triggered_by_signals[*]')) AS signal_id
        FROM raw_interventions WHERE (json->>'intervention_id') <= 'I{manifest["clean_rows"]["interventions"]:07d}'""")
    assert scalar(con, "SELECT min(n) FROM cited") >= 1
    assert scalar(con, "SELECT max(n) FROM cited") <= 3
    assert scalar(con, f"SELECT count(*) FROM cited WHERE action NOT IN {sql_list(ACTIONS)}") == 0
    assert scalar(con, "SELECT count(*) FROM cited WHERE confidence < 0 OR confidence > 1") == 0
    mismatched = """SELECT count(*) FROM cited JOIN sig USING (signal_id)
        WHERE sig.customer_id <> cited.customer_id OR sig.detected > cited.generated"""
    assert scalar(con, mismatched) == 0

    measured = f"""SELECT count(*) FROM raw_outcomes o JOIN raw_interventions i
            ON (o.json->>'intervention_id') = (i.json->>'intervention_id')
        WHERE (o.json->>'outcome_id') <= 'O{manifest["clean_rows"]["outcomes"]:07d}'
            AND (((o.json->>'measured_at'))::DATE < ((i.json->>'generated_at'))::DATE
                 OR (o.json->>'outcome') NOT IN {sql_list(OUTCOMES)}
                 OR (o.json->>'customer_id') <> (i.json->>'customer_id'))"""
    assert scalar(con, measured) == 0


# ------------------------------------------------------------------------------------------ imperfections

# feed -> case -> SQL predicate on `json` that is true exactly for the injected records of that case.
DATE_FIELDS = {
    "journey_state_log": "state_entered_at",
    "signals": "detected_at",
    "interventions": "generated_at",
    "outcomes": "measured_at",
}
REQUIRED = {
    "customers": "segment",
    "journey_state_log": "journey_stage",
    "signals": "customer_id",
    "interventions": "customer_id",
    "outcomes": "intervention_id",
}
WRONG_TYPE = {
    "customers": "json_type(json, '$.account_value') = 'VARCHAR'",
    "journey_state_log": "json_type(json, '$.days_in_state') = 'DOUBLE'",
    "signals": "json_type(json, '$.signal_strength') = 'VARCHAR'",
    "interventions": "json_type(json, '$.requires_human_approval') = 'VARCHAR'",
    "outcomes": "json_type(json, '$.human_override') = 'VARCHAR'",
}
OUT_OF_RANGE = {
    "customers": "(json->>'tenure_months')::INTEGER < 0",
    "journey_state_log": "TRY_CAST(json->>'days_in_state' AS DOUBLE) < 0",
    "signals": "TRY_CAST(json->>'signal_strength' AS DOUBLE) > 1",
    "interventions": "(json->>'confidence')::DOUBLE > 1",
    "outcomes": "(json->>'churn_risk_delta')::DOUBLE < -1",
}
UNKNOWN_VALUE = {
    "customers": "(json->>'risk_tier') NOT IN ('low', 'medium', 'high')",
    "journey_state_log": f"(json->>'journey_stage') NOT IN {sql_list(STAGES)}",
    "signals": "(json->>'source') NOT IN ('automated', 'manual')",
    "interventions": f"(json->>'recommended_action') NOT IN {sql_list(ACTIONS)}",
    "outcomes": f"(json->>'outcome') NOT IN {sql_list(OUTCOMES)}",
}
PREDICATES: dict[str, dict[str, str]] = {
    "missing_key": {feed: f"NOT json_exists(json, '$.{key}')" for feed, key in KEYS.items()},
    "missing_field": {feed: f"NOT json_exists(json, '$.{field}')" for feed, field in REQUIRED.items()},
    "wrong_type": WRONG_TYPE,
    "out_of_range": OUT_OF_RANGE,
    "unknown_value": UNKNOWN_VALUE,
    "unparseable_date": {
        feed: f"json_exists(json, '$.{field}') AND try_strptime(json->>'{field}', '%Y-%m-%d') IS NULL"
        for feed, field in DATE_FIELDS.items()
    },
}


@pytest.mark.parametrize("case", sorted(PREDICATES))
def test_rejected_row_cases_match_manifest_and_rate(case: str, high: tuple[Path, dict]) -> None:
    folder, manifest = high
    con = connect(folder)
    for feed in FEEDS:
        injected = manifest["imperfections"][case].get(feed, 0)
        predicate = PREDICATES[case].get(feed)
        if predicate is None:
            assert injected == 0, (case, feed)
            continue
        assert scalar(con, f"SELECT count(*) FROM raw_{feed} WHERE {predicate}") == injected, (case, feed)
        assert injected == round(getattr(HIGH_RATES, case) * manifest["clean_rows"][feed]), (case, feed)
        assert injected > 0
        assert manifest["expected"]["rejected_rows"][feed][case] == injected


def test_unknown_signal_types_are_written(high: tuple[Path, dict]) -> None:
    folder, manifest = high
    con = connect(folder)
    known = sql_list(NEGATIVE + POSITIVE)
    found = scalar(con, f"SELECT count(*) FROM raw_signals WHERE (json->>'signal_type') NOT IN {known}")
    assert found == manifest["imperfections"]["unknown_signal_type"]["signals"]
    assert found == round(HIGH_RATES.unknown_signal_type * manifest["clean_rows"]["signals"])


def test_exact_duplicates_match_manifest_and_rate(high: tuple[Path, dict]) -> None:
    folder, manifest = high
    con = connect(folder)
    for feed in FEEDS:
        repeated = scalar(con, f"SELECT count(*) - count(DISTINCT json::VARCHAR) FROM raw_{feed}")
        assert repeated == manifest["imperfections"]["exact_duplicates"][feed], feed
        assert within(repeated, HIGH_RATES.exact_duplicates, manifest["clean_rows"][feed]), feed
        assert manifest["expected"]["collapsed_duplicates"][feed] == repeated


def test_duplicate_key_conflicts_match_manifest(high: tuple[Path, dict]) -> None:
    folder, manifest = high
    con = connect(folder)
    for feed in FEEDS:
        key = (
            "(json->>'customer_id'), (json->>'state_entered_at')"
            if feed == "journey_state_log"
            else f"(json->>'{KEYS[feed]}')"
        )
        conflicts = scalar(
            con,
            f"""SELECT count(*) FROM (SELECT {key} FROM raw_{feed} WHERE json_exists(json, '$.{KEYS[feed]}')
                GROUP BY ALL HAVING count(DISTINCT json::VARCHAR) > 1)""",
        )
        injected = manifest["imperfections"]["duplicate_key_conflicts"][feed]
        assert conflicts == injected, feed
        assert injected == round(HIGH_RATES.duplicate_key_conflicts * manifest["clean_rows"][feed])
        assert manifest["expected"]["rejected_rows"][feed]["duplicate_key_conflict"] == 2 * injected


def test_orphans_match_manifest_and_rate(high: tuple[Path, dict]) -> None:
    folder, manifest = high
    con = connect(folder)
    clean = manifest["clean_rows"]
    customers = "(SELECT (json->>'customer_id') FROM raw_customers WHERE json_exists(json, '$.customer_id'))"
    orphans = {
        ("orphan_signals", "signals"): f"""SELECT count(*) FROM raw_signals
            WHERE json_exists(json, '$.customer_id') AND (json->>'customer_id') NOT IN {customers}""",
        ("orphan_interventions", "interventions"): f"""SELECT count(*) FROM raw_interventions
            WHERE json_exists(json, '$.customer_id') AND (json->>'customer_id') NOT IN {customers}""",
        (
            "orphan_outcomes",
            "outcomes",
        ): """SELECT count(*) FROM raw_outcomes WHERE json_exists(json, '$.intervention_id')
            AND (json->>'intervention_id') NOT IN (SELECT (json->>'intervention_id') FROM raw_interventions
                                                 WHERE json_exists(json, '$.intervention_id'))""",
    }
    for (case, feed), sql in orphans.items():
        found = scalar(con, sql)
        assert found == manifest["imperfections"][case][feed], case
        assert found == round(getattr(HIGH_RATES, case) * clean[feed]) > 0, case
    unknown_refs = f"""SELECT count(DISTINCT (json->>'intervention_id')) FROM (
            SELECT json, unnest(json_extract_string(json, '$.triggered_by_signals[*]')) AS signal_id
            FROM raw_interventions WHERE (json->>'intervention_id') <= 'I{clean["interventions"]:07d}')
        WHERE signal_id NOT IN (SELECT (json->>'signal_id') FROM raw_signals WHERE json_exists(json, '$.signal_id'))"""
    found = scalar(con, unknown_refs)
    assert found == manifest["imperfections"]["orphan_signal_refs"]["interventions"]
    assert within(found, HIGH_RATES.orphan_signal_refs, clean["interventions"])


def test_invalid_transitions_match_manifest_and_rate(high: tuple[Path, dict]) -> None:
    folder, manifest = high
    con = connect(folder)
    valid = " OR ".join(f"(previous = '{a}' AND stage = '{b}')" for a, b in sorted(VALID_TRANSITIONS))
    transitions = f"""SELECT DISTINCT (json->>'customer_id') AS customer_id, (json->>'state_entered_at') AS entered,
            (json->>'previous_stage') AS previous, (json->>'journey_stage') AS stage
        FROM raw_journey_state_log
        WHERE (json->>'customer_id') <= 'C{CUSTOMERS:07d}' AND (json->>'previous_stage') IS NOT NULL"""
    total = scalar(con, f"SELECT count(*) FROM ({transitions})")
    invalid = scalar(con, f"SELECT count(*) FROM ({transitions}) WHERE NOT ({valid})")
    assert invalid == manifest["imperfections"]["invalid_transitions"]["journey_state_log"]
    assert within(invalid, HIGH_RATES.invalid_transitions, total)


def test_missing_outcomes_match_manifest_and_rate(high: tuple[Path, dict]) -> None:
    folder, manifest = high
    con = connect(folder)
    clean = manifest["clean_rows"]["interventions"]
    missing = scalar(
        con,
        f"""SELECT count(DISTINCT (json->>'intervention_id')) FROM raw_interventions
        WHERE (json->>'intervention_id') <= 'I{clean:07d}' AND (json->>'intervention_id') NOT IN
            (SELECT (json->>'intervention_id') FROM raw_outcomes WHERE json_exists(json, '$.intervention_id'))""",
    )
    assert missing == manifest["imperfections"]["missing_outcomes"]["interventions"]
    assert within(missing, HIGH_RATES.missing_outcomes, clean)


def test_conflicting_signals_match_manifest_and_rate(high: tuple[Path, dict]) -> None:
    folder, manifest = high
    con = connect(folder)
    conflicting = scalar(
        con,
        f"""SELECT count(*) FROM (
            SELECT (json->>'customer_id') FROM raw_signals
            WHERE (json->>'customer_id') IN (SELECT (json->>'customer_id') FROM raw_customers)
            GROUP BY ALL
            HAVING bool_or(json->>'signal_type' IN {sql_list(NEGATIVE)})
               AND bool_or(json->>'signal_type' IN {sql_list(POSITIVE)}))""",
    )
    assert conflicting == manifest["imperfections"]["conflicting_signals"]["signals"]
    assert within(conflicting, HIGH_RATES.conflicting_signals, CUSTOMERS)


def test_zero_rates_give_clean_feeds(tmp_path: Path) -> None:
    manifest = generate(tmp_path, 500, SEED, rates=GeneratorRates.zero())
    assert manifest["rows"] == manifest["clean_rows"]
    assert all(count == 0 for feeds in manifest["imperfections"].values() for count in feeds.values())


# --------------------------------------------------------------------------------------------- formats


def test_json_and_ndjson_hold_the_same_records(tmp_path: Path, default: tuple[Path, dict]) -> None:
    folder, manifest = default
    generate(tmp_path, CUSTOMERS, SEED, fmt="ndjson")
    assert (folder / "customers.json").read_text().startswith("[\n\t{")
    assert (tmp_path / "customers.json").read_text().startswith('{"customer_id":"C0000001"')
    json_con, ndjson_con = connect(folder), connect(tmp_path)
    for feed in FEEDS:
        sql = f"SELECT json::VARCHAR FROM raw_{feed}"
        records = [row[0] for row in json_con.execute(sql).fetchall()]
        assert records == [row[0] for row in ndjson_con.execute(sql).fetchall()], feed
        assert len(records) == manifest["rows"][feed]
    array = json.loads((folder / "signals.json").read_text())
    assert isinstance(array, list) and len(array) == manifest["rows"]["signals"]


# -------------------------------------------------------------------------------------- daily increments


def test_daily_increments_hold_only_new_dated_records(daily: tuple[Path, dict]) -> None:
    folder, manifest = daily
    assert [entry["dir"] for entry in manifest["daily"]] == ["day_000", "day_001", "day_002", "day_003"]
    base = manifest["daily"][0]["clean_rows"]
    for entry in manifest["daily"][1:]:
        day = int(entry["dir"][-3:])
        con = connect(folder / entry["dir"])
        assert entry["as_of_date"] == (AS_OF + timedelta(days=day)).isoformat()
        for feed, field in DATE_FIELDS.items():
            dates = con.execute(
                f"SELECT DISTINCT (json->>'{field}') FROM raw_{feed} WHERE json_exists(json, '$.{field}') "
                f"AND try_strptime(json->>'{field}', '%Y-%m-%d') IS NOT NULL"
            ).fetchall()
            assert dates in ([(entry["as_of_date"],)], []), (entry["dir"], feed)
        # about 1% of the base set per feed
        for feed in ("customers", "journey_state_log", "signals"):
            assert 0.005 * base[feed] <= entry["clean_rows"][feed] <= 0.02 * base[feed], (entry["dir"], feed)
        for feed in FEEDS:
            assert scalar(con, f"SELECT count(*) FROM raw_{feed}") == entry["rows"][feed]
    assert manifest["rows"] == {
        feed: sum(entry["rows"][feed] for entry in manifest["daily"]) for feed in FEEDS
    }


def test_daily_ids_never_collide_across_days(daily: tuple[Path, dict]) -> None:
    folder, _ = daily
    con = duckdb.connect()
    for feed in ("customers", "signals", "interventions", "outcomes"):
        key = KEYS[feed]
        per_day = f"""SELECT DISTINCT (json->>'{key}') AS key, filename FROM read_json_objects(
            '{folder}/day_*/{feed}.json', format='auto', filename=true) WHERE json_exists(json, '$.{key}')"""
        assert (
            scalar(
                con, f"SELECT count(*) FROM (SELECT key FROM ({per_day}) GROUP BY key HAVING count(*) > 1)"
            )
            == 0
        )


def test_daily_journey_rows_continue_each_chain(daily: tuple[Path, dict]) -> None:
    folder, manifest = daily
    con = duckdb.connect()
    con.execute(f"""CREATE TABLE log AS SELECT DISTINCT (json->>'customer_id') AS customer_id,
            (json->>'journey_stage') AS stage, (json->>'state_entered_at')::DATE AS entered,
            (json->>'previous_stage') AS previous
        FROM read_json_objects('{folder}/day_*/journey_state_log.json', format='auto')
        WHERE (json->>'customer_id') IN (SELECT (json->>'customer_id') FROM read_json_objects(
            '{folder}/day_*/customers.json', format='auto'))
          AND try_strptime(json->>'state_entered_at', '%Y-%m-%d') IS NOT NULL""")
    broken = """SELECT count(*) FROM (
        SELECT previous, lag(stage) OVER (PARTITION BY customer_id ORDER BY entered) AS prior FROM log)
        WHERE prior IS NOT NULL AND previous IS DISTINCT FROM prior"""
    assert scalar(con, broken) == 0
    final = AS_OF + timedelta(days=3)
    assert scalar(con, "SELECT max(entered) FROM log") == final
    assert manifest["final_as_of_date"] == final.isoformat()
    new_customers = sum(entry["clean_rows"]["customers"] for entry in manifest["daily"][1:])
    assert scalar(con, "SELECT count(DISTINCT customer_id) FROM log") == CUSTOMERS + new_customers


# ------------------------------------------------------------------------------------------- injections

# SHA-256 over the files (and manifests) of two small default sets, as the generator wrote them before
# `--inject` existed: a 300-customer base with two daily increments (JSON) and a 300-customer set (NDJSON).
# Cached benchmark feeds (journey bench) depend on the default output staying byte-identical; a change of it
# on purpose updates this digest, and the changelog says so.
DEFAULT_DIGEST = "2e8e39193326466a3d79f93adda60fd7ba77159b878ab29c519b80a15da2a84e"
SETTINGS = Injections.from_yaml(INJECTIONS)
ESCALATION = SETTINGS["signal_precedes_escalation"]
CONFIDENCE = SETTINGS["confidence_predicts_success"]
HARMFUL = SETTINGS["harmful_action"]
SUCCESS_OUTCOMES = OUTCOMES[:3]


def digest(folder: Path) -> str:
    sha = hashlib.sha256()
    for path in sorted(folder.rglob("*.json")):
        sha.update(str(path.relative_to(folder)).encode())
        sha.update(path.read_bytes())
    return sha.hexdigest()


@pytest.fixture(scope="module")
def alone(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, dict]]:
    """Each injection on its own, on the default rates and seed (the `default` fixture's set otherwise)."""
    sets = {}
    for name in INJECTIONS:
        folder = tmp_path_factory.mktemp(name)
        sets[name] = folder, generate(folder, CUSTOMERS, SEED, injections=Injections.from_yaml([name]))
    return sets


def clean_views(folder: Path, manifest: dict) -> duckdb.DuckDBPyConnection:
    """Typed views of the clean records only (no extras): sig, log, act (interventions), res (outcomes)."""
    con = connect(folder)
    clean = manifest["clean_rows"]
    con.execute(f"""CREATE VIEW sig AS SELECT DISTINCT (json->>'customer_id') AS customer_id,
            (json->>'signal_id') AS signal_id, (json->>'signal_type') AS signal_type,
            (json->>'detected_at')::DATE AS detected
        FROM raw_signals WHERE (json->>'signal_id') <= 'S{clean["signals"]:07d}'""")
    con.execute(f"""CREATE VIEW log AS SELECT DISTINCT (json->>'customer_id') AS customer_id,
            (json->>'journey_stage') AS stage, (json->>'state_entered_at')::DATE AS entered, json::VARCHAR AS rec
        FROM raw_journey_state_log WHERE (json->>'customer_id') <= 'C{CUSTOMERS:07d}'""")
    con.execute(f"""CREATE VIEW act AS SELECT DISTINCT (json->>'intervention_id') AS intervention_id,
            (json->>'recommended_action') AS action, (json->>'confidence')::DOUBLE AS confidence
        FROM raw_interventions WHERE (json->>'intervention_id') <= 'I{clean["interventions"]:07d}'""")
    con.execute(f"""CREATE VIEW res AS SELECT DISTINCT act.*, (json->>'outcome_id') AS outcome_id,
            (json->>'outcome') AS outcome, (json->>'outcome') IN {sql_list(SUCCESS_OUTCOMES)} AS is_success,
            (json->>'churn_risk_delta')::DOUBLE AS churn_risk_delta, json::VARCHAR AS rec
        FROM raw_outcomes JOIN act ON (json->>'intervention_id') = act.intervention_id
        WHERE (json->>'outcome_id') <= 'O{clean["outcomes"]:07d}'""")
    return con


def escalated_after_first_signal(con: duckdb.DuckDBPyConnection) -> tuple[int, float]:
    """Customers whose first signal of the injected type has a complete lag window, and the share of them who
    enter escalation within that window."""
    row = con.execute(f"""
        WITH first_signal AS (
            SELECT customer_id, min(detected) AS detected FROM sig
            WHERE signal_type = '{ESCALATION["signal_type"]}' GROUP BY customer_id
        )
        SELECT count(*), avg(EXISTS (
            SELECT 1 FROM log WHERE log.customer_id = first_signal.customer_id AND log.stage = 'escalation'
                AND log.entered > first_signal.detected
                AND log.entered <= first_signal.detected + {ESCALATION["max_lag_days"]})::INTEGER)
        FROM first_signal WHERE detected + {ESCALATION["max_lag_days"]} <= DATE '{AS_OF}'""").fetchone()
    return row[0], row[1]


def slope(con: duckdb.DuckDBPyConnection, where: str = "true") -> tuple[float, float]:
    """Least-squares slope of is_success on confidence over the recorded outcomes, with its standard error."""
    sxx, syy, sxy, n = con.execute(f"""SELECT regr_sxx(y, confidence), regr_syy(y, confidence),
            regr_sxy(y, confidence), regr_count(y, confidence)
        FROM (SELECT is_success::INTEGER AS y, confidence FROM res WHERE {where})""").fetchone()
    residual = (syy - sxy**2 / sxx) / (n - 2)
    return sxy / sxx, math.sqrt(residual / sxx)


def test_default_output_is_unchanged(tmp_path: Path) -> None:
    daily_manifest = generate(tmp_path / "a", 300, SEED, days=2)
    generate(tmp_path / "b", 300, SEED, fmt="ndjson", injections=Injections.from_yaml([]))
    assert digest(tmp_path) == DEFAULT_DIGEST
    assert "injections" not in daily_manifest


def test_manifest_records_what_was_injected(injected: tuple[Path, dict]) -> None:
    folder, manifest = injected
    assert json.loads((folder / "manifest.json").read_text())["injections"] == manifest["injections"]
    assert list(manifest["injections"]) == list(INJECTIONS)
    for name in INJECTIONS:
        assert manifest["injections"][name]["settings"] == dict(SETTINGS[name])
    counts = {name: entry["counts"] for name, entry in manifest["injections"].items()}
    escalations = counts["signal_precedes_escalation"]
    assert within(
        escalations["escalations_drawn"], ESCALATION["probability"], escalations["eligible_customers"]
    )
    assert 0 < escalations["escalations_written"] <= escalations["escalations_drawn"]
    assert counts["harmful_action"]["outcomes_made_harmful"] > 0
    assert (
        counts["confidence_predicts_success"]["outcomes_drawn_by_confidence"]
        + counts["harmful_action"]["outcomes_made_harmful"]
        == manifest["clean_rows"]["outcomes"]
    )


def test_each_injection_changes_only_what_it_injects(
    default: tuple[Path, dict], alone: dict[str, tuple[Path, dict]]
) -> None:
    base, base_manifest = default
    unchanged = {
        "signal_precedes_escalation": ("customers",),
        "confidence_predicts_success": ("customers", "journey_state_log", "signals", "interventions"),
        "harmful_action": ("customers", "journey_state_log", "signals", "interventions"),
    }
    for name, feeds in unchanged.items():
        folder, manifest = alone[name]
        for feed in FEEDS:
            same = (folder / f"{feed}.json").read_bytes() == (base / f"{feed}.json").read_bytes()
            assert same == (feed in feeds), (name, feed)
        assert manifest["rows"]["customers"] == base_manifest["rows"]["customers"]
    # others at the generator's normal rate: the journeys of customers without a signal of the type are the
    # default's, record for record
    con = clean_views(base, base_manifest)
    folder, manifest = alone["signal_precedes_escalation"]
    other = clean_views(folder, manifest)
    typed = f"SELECT customer_id FROM sig WHERE signal_type = '{ESCALATION['signal_type']}'"
    untouched = f"SELECT customer_id, rec FROM log WHERE customer_id NOT IN ({typed}) ORDER BY ALL"
    rows = con.execute(untouched).fetchall()
    assert len(rows) > CUSTOMERS and rows == other.execute(untouched).fetchall()
    # the harmful action's injection leaves every other action's outcomes as they were
    folder, manifest = alone["harmful_action"]
    other_actions = f"SELECT outcome_id, rec FROM res WHERE action <> '{HARMFUL['action']}' ORDER BY ALL"
    rows = con.execute(other_actions).fetchall()
    assert len(rows) > 100 and rows == clean_views(folder, manifest).execute(other_actions).fetchall()


def test_signal_precedes_escalation_in_the_raw_feeds(
    default: tuple[Path, dict], alone: dict[str, tuple[Path, dict]]
) -> None:
    customers, rate = escalated_after_first_signal(clean_views(*alone["signal_precedes_escalation"]))
    base_customers, base_rate = escalated_after_first_signal(clean_views(*default))
    assert customers == base_customers > 200  # the same customers get the signal
    # injected: about `probability` of them (less the few that cannot move: already in escalation, an injected
    # invalid last transition, a fifth stage); without: the generator's normal rate, a few percent
    assert ESCALATION["probability"] - 0.15 <= rate <= ESCALATION["probability"], rate
    assert base_rate < 0.05, base_rate


def test_confidence_predicts_success_in_the_raw_feeds(
    default: tuple[Path, dict], alone: dict[str, tuple[Path, dict]]
) -> None:
    expected = CONFIDENCE["success_at_one"] - CONFIDENCE["success_at_zero"]
    injected_slope, injected_se = slope(clean_views(*alone["confidence_predicts_success"]))
    base_slope, base_se = slope(clean_views(*default))
    assert abs(injected_slope - expected) <= 4 * injected_se, (injected_slope, injected_se)
    assert injected_slope - 4 * injected_se > 0
    assert abs(base_slope) <= 4 * base_se, (base_slope, base_se)  # without: success ignores confidence
    # bin by bin (width 0.1): the success rate is the configured probability at the bin's mean confidence
    con = clean_views(*alone["confidence_predicts_success"])
    bins = con.execute(f"""SELECT floor(confidence * 10) AS bin, count(*), sum(is_success::INTEGER),
            {CONFIDENCE["success_at_zero"]} + {expected} * avg(confidence)
        FROM res GROUP BY bin ORDER BY bin""").fetchall()
    assert len(bins) >= 6
    for _, outcomes, successes, p_success in bins:
        assert within(successes, p_success, outcomes), (outcomes, successes, p_success)


def test_harmful_action_in_the_raw_feeds(
    default: tuple[Path, dict], alone: dict[str, tuple[Path, dict]]
) -> None:
    measures = f"""SELECT count(*), count(*) FILTER (outcome = 'no_response'), avg(churn_risk_delta),
            stddev_samp(churn_risk_delta) / sqrt(count(*)),
            min(churn_risk_delta) FILTER (outcome = 'no_response')
        FROM res WHERE action = '{HARMFUL["action"]}'"""
    outcomes, failures, mean, se, lowest = clean_views(*alone["harmful_action"]).execute(measures).fetchone()
    base_outcomes, base_failures, base_mean, base_se, _ = clean_views(*default).execute(measures).fetchone()
    assert outcomes == base_outcomes > 30
    # injected: `failure_probability` of them fail, plus the usual share of the rest; the customers got riskier
    assert failures >= HARMFUL["failure_probability"] * outcomes - 4 * math.sqrt(outcomes), (
        failures,
        outcomes,
    )
    assert mean - 4 * se > 0 and lowest >= 0, (mean, se, lowest)
    # without: the action is on average helpful, like every other
    assert base_failures < failures / 2
    assert base_mean + 4 * base_se < 0, (base_mean, base_se)


def test_signal_precedes_escalation_in_daily_increments(tmp_path: Path) -> None:
    # a day adds about 1 % of the base set: eight days of signals with a complete lag window give a few dozen
    days = ESCALATION["max_lag_days"] + 8
    injections = Injections.from_yaml(["signal_precedes_escalation"])
    rates = []
    for name, chosen in (("injected", injections), ("default", None)):
        folder = tmp_path / name
        manifest = generate(folder, CUSTOMERS, SEED, fmt="ndjson", days=days, injections=chosen)
        con = duckdb.connect()
        glob = f"{folder}/day_0[0-9][1-9]"
        con.execute(f"""CREATE VIEW sig AS SELECT DISTINCT (json->>'customer_id') AS customer_id,
                (json->>'journey_stage') AS stage, (json->>'detected_at')::DATE AS detected
            FROM read_json_objects('{glob}/signals.json', format='auto')
            WHERE (json->>'signal_type') = '{ESCALATION["signal_type"]}'
              AND try_strptime(json->>'detected_at', '%Y-%m-%d') IS NOT NULL""")
        con.execute(f"""CREATE VIEW log AS SELECT DISTINCT (json->>'customer_id') AS customer_id,
                (json->>'journey_stage') AS stage, (json->>'previous_stage') AS previous,
                try_strptime(json->>'state_entered_at', '%Y-%m-%d')::DATE AS entered
            FROM read_json_objects('{glob}/journey_state_log.json', format='auto')""")
        # signals of the type in a day whose lag window lies inside the set, the customer not yet in escalation
        signals, rate = con.execute(f"""SELECT count(*), avg(EXISTS (SELECT 1 FROM log
                WHERE log.customer_id = sig.customer_id AND log.stage = 'escalation' AND log.entered > sig.detected
                    AND log.entered <= sig.detected + {ESCALATION["max_lag_days"]})::INTEGER)
            FROM sig WHERE stage <> 'escalation'
                AND detected + {ESCALATION["max_lag_days"]} <= DATE '{manifest["final_as_of_date"]}'""").fetchone()
        assert signals >= 30, signals
        rates.append(rate)
        broken = """SELECT count(*) FROM log WHERE stage = 'escalation' AND previous = 'escalation'"""
        assert scalar(con, broken) == 0
    assert rates[0] >= ESCALATION["probability"] - 0.25 and rates[1] < 0.1, rates


def test_injection_settings_are_validated() -> None:
    assert not Injections.from_yaml([]) and not Injections()
    with pytest.raises(ValueError, match="unknown injection"):
        Injections.from_yaml(["signal_precedes_escalation", "no_such_thing"])
    with pytest.raises(ValueError, match="not selected"):
        Injections.from_yaml(["harmful_action"], {"confidence_predicts_success.success_at_one": "0.5"})
    with pytest.raises(ValueError, match="unknown setting"):
        Injections.from_yaml(["harmful_action"], {"harmful_action.strength": "1"})
    with pytest.raises(ValueError, match="unknown action"):
        Injections.from_yaml(["harmful_action"], {"harmful_action.action": "send_gift_card"})
    with pytest.raises(ValueError, match="unknown signal type"):
        Injections.from_yaml(["signal_precedes_escalation"], {"signal_precedes_escalation.signal_type": "x"})
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        Injections.from_yaml(["signal_precedes_escalation"], {"signal_precedes_escalation.probability": "2"})
    with pytest.raises(ValueError, match="not of type int"):
        Injections.from_yaml(["signal_precedes_escalation"], {"signal_precedes_escalation.max_lag_days": "x"})
    with pytest.raises(ValueError, match=r"NAME\.SETTING=VALUE"):
        parse_injection_settings(["harmful_action"])
    chosen = Injections.from_yaml(["harmful_action"], {"harmful_action.action": "proactive_outreach"})
    assert chosen["harmful_action"]["action"] == "proactive_outreach"
    assert chosen["harmful_action"]["failure_probability"] == HARMFUL["failure_probability"]


def test_cli_injects_and_records_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    args = parser.parse_args(
        [
            *("--customers", "300", "--seed", "3", "--out", str(tmp_path)),
            *("--inject", "harmful_action,confidence_predicts_success"),
            *("--inject-setting", "harmful_action.action=proactive_outreach"),
        ]
    )
    assert run(args) == 0
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert list(manifest["injections"]) == ["confidence_predicts_success", "harmful_action"]
    assert manifest["injections"]["harmful_action"]["settings"]["action"] == "proactive_outreach"
    assert "injected confidence_predicts_success, harmful_action" in capsys.readouterr().out
    bad = parser.parse_args(["--customers", "10", "--out", str(tmp_path), "--inject", "bogus"])
    assert run(bad) == 2
    assert "unknown injection(s) bogus" in capsys.readouterr().err


def test_every_injection_is_documented() -> None:
    text = (DEFAULTS_PATH.parents[1] / "docs" / "generator-injections.md").read_text()
    for name in INJECTIONS:
        assert f"`{name}`" in text, name
        for setting in SETTINGS[name]:
            assert f"`{setting}`" in text, (name, setting)


# ------------------------------------------------------------------------- daily-increment injections

DAILY_SETTINGS = Injections.from_yaml(DAILY_INJECTIONS)
DAILY_FEED = {
    "volume_drop": DAILY_SETTINGS["volume_drop"]["feed"],
    "null_burst": DAILY_SETTINGS["null_burst"]["feed"],
    "segment_shift": "customers",
}


@pytest.fixture(scope="module")
def daily_sets(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, dict]]:
    """Three days on the default rates without injections ("none") and with each daily injection alone."""
    sets = {}
    for name in ("none", *DAILY_INJECTIONS):
        folder = tmp_path_factory.mktemp(f"daily_{name}")
        chosen = Injections.from_yaml([] if name == "none" else [name])
        sets[name] = folder, generate(folder, CUSTOMERS, SEED, fmt="ndjson", days=3, injections=chosen)
    return sets


def day_feed(folder: Path, day: int, feed: str) -> duckdb.DuckDBPyRelation:
    return duckdb.sql(
        f"SELECT json FROM read_json_objects('{folder}/day_{day:03d}/{feed}.json', format='auto')"
    )


@pytest.mark.parametrize("name", DAILY_INJECTIONS)
def test_daily_injection_changes_only_its_day_and_feed(
    name: str, daily_sets: dict[str, tuple[Path, dict]]
) -> None:
    base, base_manifest = daily_sets["none"]
    folder, manifest = daily_sets[name]
    day = DAILY_SETTINGS[name]["day"]
    changed = {
        str(path.relative_to(folder))
        for path in folder.rglob("*.json")
        if path.name != "manifest.json"
        and path.read_bytes() != (base / path.relative_to(folder)).read_bytes()
    }
    assert changed == {f"day_{day:03d}/{DAILY_FEED[name]}.json"}
    assert manifest["injections"] == {name: {"settings": dict(DAILY_SETTINGS[name]), "counts": ANY_COUNTS}}
    # the manifest's rows are what the files hold, day by day
    for entry in manifest["daily"]:
        for feed in FEEDS:
            written = len(day_feed(folder, entry["day"], feed).fetchall())
            assert entry["rows"][feed] == written, (entry["day"], feed)
    for entry, base_entry in zip(manifest["daily"], base_manifest["daily"], strict=True):
        # only a volume drop changes what the day's manifest counts
        assert (entry == base_entry) == (entry["day"] != day or name != "volume_drop"), entry["day"]


class _AnyCounts(dict):
    """Equal to any non-empty mapping of non-negative integer counts."""

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, dict)
            and bool(other)
            and all(isinstance(value, int) and value >= 0 for value in other.values())
        )

    __hash__ = None  # type: ignore[assignment]


ANY_COUNTS = _AnyCounts()


def test_volume_drop_keeps_its_share(daily_sets: dict[str, tuple[Path, dict]]) -> None:
    settings = DAILY_SETTINGS["volume_drop"]
    day, feed, keep = settings["day"], settings["feed"], settings["keep_share"]
    base_day = daily_sets["none"][1]["daily"][day]
    folder, manifest = daily_sets["volume_drop"]
    injected_day = manifest["daily"][day]
    counts = manifest["injections"]["volume_drop"]["counts"]
    before, after = base_day["rows"][feed], injected_day["rows"][feed]
    assert counts == {"records_dropped": before - after, "records_written": after}
    assert abs(after - keep * before) <= 3, (after, before)
    # clean records: exactly the configured share; every other feed and day as without the injection
    assert injected_day["clean_rows"][feed] == round(keep * base_day["clean_rows"][feed])
    assert {f: n for f, n in injected_day["rows"].items() if f != feed} == {
        f: n for f, n in base_day["rows"].items() if f != feed
    }
    # every written record is one of the uninjected day's, unchanged
    written = {row[0] for row in day_feed(folder, day, feed).fetchall()}
    assert written <= {row[0] for row in day_feed(daily_sets["none"][0], day, feed).fetchall()}


def test_volume_drop_keeps_the_shares_inside_the_feed(tmp_path: Path) -> None:
    """At rates high enough to measure: each extra-record case keeps about keep_share of its records."""
    cases = ("missing_key", "wrong_type", "duplicate_key_conflicts")
    rates = HIGH_RATES.with_overrides(dict.fromkeys((*cases, "exact_duplicates"), 0.2))
    injections = Injections.from_yaml(["volume_drop"], {"volume_drop.keep_share": "0.5"})
    days = [
        generate(tmp_path / name, CUSTOMERS, SEED, days=1, rates=rates, injections=chosen)["daily"][1]
        for name, chosen in (("none", None), ("dropped", injections))
    ]
    for case in cases:  # exactly the share of each case (a duplicate-key pair counts once)
        before, after = days[0]["imperfections"][case]["signals"], days[1]["imperfections"][case]["signals"]
        assert before >= 4 and abs(after - 0.5 * before) <= 0.5, (case, before, after)
    # an exact duplicate goes with its clean record, so about the share of them
    before, after = (day["imperfections"]["exact_duplicates"]["signals"] for day in days)
    assert before >= 4 and within(after, 0.5, before), (before, after)
    assert (
        days[1]["expected"]["rejected_rows"]["signals"]["missing_key"]
        == days[1]["imperfections"]["missing_key"]["signals"]
    )


def test_null_burst_writes_nulls(daily_sets: dict[str, tuple[Path, dict]]) -> None:
    settings = DAILY_SETTINGS["null_burst"]
    day, feed, field, share = settings["day"], settings["feed"], settings["field"], settings["share"]
    folder, manifest = daily_sets["null_burst"]
    clean = manifest["daily"][day]["clean_rows"][feed]
    counts = manifest["injections"]["null_burst"]["counts"]
    assert counts["nulls_written"] == round(share * clean) > 0
    null_share, absent = (
        day_feed(folder, day, feed)
        .aggregate(
            f"avg((json_type(json->'{field}') = 'NULL')::INTEGER), count(*) FILTER ((json->'{field}') IS NULL)"
        )
        .fetchone()
    )
    assert abs(null_share - share) <= 0.1, null_share  # JSON null, like the feed's other nulls
    assert (
        absent
        == day_feed(daily_sets["none"][0], day, feed)
        .aggregate(f"count(*) FILTER ((json->'{field}') IS NULL)")
        .fetchone()[0]
    )
    base_nulls = (
        day_feed(daily_sets["none"][0], day, feed)
        .aggregate(f"count(*) FILTER (json_type(json->'{field}') = 'NULL')")
        .fetchone()[0]
    )
    assert base_nulls == 0


def test_segment_shift_writes_the_segment(daily_sets: dict[str, tuple[Path, dict]]) -> None:
    settings = DAILY_SETTINGS["segment_shift"]
    day, segment, share = settings["day"], settings["segment"], settings["share"]
    folder, manifest = daily_sets["segment_shift"]
    counts = manifest["injections"]["segment_shift"]["counts"]
    assert counts["customers_shifted"] == round(share * manifest["daily"][day]["clean_rows"]["customers"])
    clean = manifest["daily"][day]["clean_rows"]["customers"]

    def share_of_segment(folder: Path) -> float:
        """Among the day's clean customers: the first `clean` ids (extra records get later ids)."""
        return (
            day_feed(folder, day, "customers")
            .query(
                "customers",
                f"""SELECT avg((lower(json->>'segment') = '{segment}')::INTEGER) FROM (
                SELECT DISTINCT json->>'customer_id' AS customer_id, json FROM customers
                WHERE customer_id IS NOT NULL ORDER BY customer_id LIMIT {clean})""",
            )
            .fetchone()[0]
        )

    shifted, before = share_of_segment(folder), share_of_segment(daily_sets["none"][0])
    assert shifted >= share > before, (shifted, before)


def test_daily_injection_settings_are_validated(tmp_path: Path) -> None:
    cases = {
        "volume_drop.day": ("0", "integer >= 1"),
        "volume_drop.feed": ("accounts", "unknown feed"),
        "volume_drop.keep_share": ("1.5", r"\[0, 1\]"),
        "null_burst.field": ("signal_type", "not an optional field of signals"),
        "null_burst.share": ("-0.1", r"\[0, 1\]"),
        "segment_shift.segment": ("startup", "unknown segment 'startup'"),
    }
    for key, (value, message) in cases.items():
        with pytest.raises(ValueError, match=message):
            Injections.from_yaml([key.partition(".")[0]], {key: value})
    with pytest.raises(ValueError, match="not an optional field of signals"):
        Injections.from_yaml(["null_burst"], {"null_burst.field": "signal_id"})  # the key
    with pytest.raises(ValueError, match="not an optional field of customers"):
        Injections.from_yaml(["null_burst"], {"null_burst.feed": "customers", "null_burst.field": "segment"})
    with pytest.raises(ValueError, match=r"only 1 daily increment\(s\) are written"):
        generate(
            tmp_path,
            50,
            SEED,
            days=1,
            injections=Injections.from_yaml(["segment_shift"], {"segment_shift.day": "2"}),
        )
    with pytest.raises(ValueError, match=r"--days 0"):
        generate(tmp_path, 50, SEED, injections=Injections.from_yaml(["volume_drop"]))


def test_every_daily_injection_is_documented() -> None:
    text = (DEFAULTS_PATH.parents[1] / "docs" / "generator-injections.md").read_text()
    for name in DAILY_INJECTIONS:
        assert f"## `{name}`" in text, name
        for setting in DAILY_SETTINGS[name]:
            assert f"`{setting}`" in text, (name, setting)


# ------------------------------------------------------------------------------------------ rates and CLI


def test_every_rate_has_a_documented_default() -> None:
    text = DEFAULTS_PATH.read_text()
    defaults = GeneratorRates.from_yaml()
    for name in GeneratorRates.names():
        assert re.search(rf"#[^\n]*\n(?:\s*#[^\n]*\n)*\s*{name}:", text), f"{name} has no comment"
        assert 0 <= getattr(defaults, name) <= 1


def test_rate_validation_and_overrides() -> None:
    defaults = GeneratorRates.from_yaml()
    assert parse_rate_overrides(["orphan_signals=0.05", "wrong_type = 0"]) == {
        "orphan_signals": 0.05,
        "wrong_type": 0.0,
    }
    assert defaults.with_overrides({"orphan_signals": 0.05}).orphan_signals == 0.05
    with pytest.raises(ValueError, match="unknown rate"):
        defaults.with_overrides({"no_such_rate": 0.1})
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        defaults.with_overrides({"missing_key": 1.5})
    with pytest.raises(ValueError, match="NAME=VALUE"):
        parse_rate_overrides(["orphan_signals"])


def test_cli_run_writes_feeds_with_rate_overrides(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    args = parser.parse_args(
        [
            *("--customers", "300", "--seed", "3", "--out", str(tmp_path), "--format", "ndjson"),
            *("--rate", "orphan_signals=0.05", "--rate", "missing_outcomes=0"),
        ]
    )
    assert run(args) == 0
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["rates"]["orphan_signals"] == 0.05
    assert manifest["imperfections"]["missing_outcomes"]["interventions"] == 0
    assert manifest["format"] == "ndjson"
    assert "manifest" in capsys.readouterr().out
    bad = parser.parse_args(["--customers", "10", "--out", str(tmp_path), "--rate", "bogus=1"])
    assert run(bad) == 2
