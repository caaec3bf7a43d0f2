"""Loading and staging: the bad-input contract, on real dbt builds.

A test that stages a folder of its own builds only the staging layer and the quality tables that account for
it (``STAGED``); the bundled sample is the session's ``sample_db`` (tests/conftest.py), copied when a test
needs a built database to change.
"""

from __future__ import annotations

import json
from pathlib import Path

from journey.dbt_session import DbtSession
from tests.conftest import FEEDS, SAMPLE_DIR, copy_db, load_sample, query, write_feeds

SAMPLE_COUNTS = {"customers": 10, "journey_state_log": 10, "signals": 12, "interventions": 8, "outcomes": 6}
# The staging layer and the quality tables about it; cautious: no test of a downstream model not built.
STAGED = [
    "--select",
    "+path:models/staging",
    "+feed_accounting",
    "+rejected_rows",
    "--indirect-selection",
    "cautious",
]


def accounting(db: Path) -> dict[str, tuple]:
    rows = query(
        db,
        "select source, input_records, staged_records, rejected_records, collapsed_duplicates from quality.feed_accounting",
    )
    return {row[0]: row[1:] for row in rows}


def test_sample_stages_completely(sample_db: Path) -> None:
    assert accounting(sample_db) == {feed: (n, n, 0, 0) for feed, n in SAMPLE_COUNTS.items()}
    assert query(sample_db, "select count(*) from quality.rejected_rows") == [(0,)]
    for feed, n in SAMPLE_COUNTS.items():
        assert query(sample_db, f"select count(*) from staging.stg_{feed}") == [(n,)]


def test_sample_types_and_normalization(sample_db: Path) -> None:
    row = query(
        sample_db,
        "select segment, account_value, tenure_months, risk_tier from staging.stg_customers where customer_id = 'C004'",
    )
    assert row == [("mid-market", 42000, 18, "low")]
    types = dict(
        query(
            sample_db,
            "select column_name, data_type from information_schema.columns "
            "where table_schema = 'staging' and table_name = 'stg_interventions'",
        )
    )
    assert types["triggered_by_signals"] == "VARCHAR[]"
    assert types["generated_at"] == "DATE"
    assert types["requires_human_approval"] == "BOOLEAN"
    assert query(
        sample_db, "select triggered_by_signals from staging.stg_interventions where intervention_id = 'I001'"
    ) == [(["S001", "S002"],)]
    assert query(
        sample_db, "select previous_stage from staging.stg_journey_state_log where customer_id = 'C001'"
    ) == [(None,)]


BAD_CUSTOMERS = [
    {"customer_id": None, "segment": "SMB", "account_value": 1, "tenure_months": 1, "risk_tier": "low"},
    {
        "customer_id": "X01",
        "segment": "SMB",
        "account_value": "12000",
        "tenure_months": 1,
        "risk_tier": "low",
    },
    {"customer_id": "X02", "segment": "SMB", "account_value": -5, "tenure_months": 1, "risk_tier": "low"},
    {"customer_id": "X03", "segment": "Gold", "account_value": 5, "tenure_months": 1, "risk_tier": "low"},
    {"customer_id": "X04", "account_value": 5, "tenure_months": 1, "risk_tier": "low"},
    {"customer_id": "X05", "segment": "SMB", "account_value": 5, "tenure_months": 3.5, "risk_tier": "low"},
    {"customer_id": "X06", "segment": " smb ", "account_value": 5, "tenure_months": 3.0, "risk_tier": "LOW"},
    {"customer_id": "X06", "segment": "SMB", "account_value": 5, "tenure_months": 3, "risk_tier": "low"},
    {"customer_id": "X07", "segment": "SMB", "account_value": 5, "tenure_months": 3, "risk_tier": "low"},
    {"customer_id": "X07", "segment": "SMB", "account_value": 6, "tenure_months": 3, "risk_tier": "low"},
]
BAD_LOG = [
    {
        "customer_id": "C001",
        "journey_stage": "hibernation",
        "state_entered_at": "2025-01-02",
        "days_in_state": 1,
    },
    {
        "customer_id": "C001",
        "journey_stage": "engagement",
        "state_entered_at": "01/03/2025",
        "days_in_state": 1,
    },
    {
        "customer_id": "C001",
        "journey_stage": "engagement",
        "state_entered_at": "2025-01-04",
        "days_in_state": -1,
    },
]
BAD_SIGNALS = [
    {
        "signal_id": "SX1",
        "customer_id": "C001",
        "signal_type": "usage_drop",
        "signal_strength": 1.4,
        "detected_at": "2025-01-14",
        "source": "automated",
    },
    {
        "signal_id": "SX2",
        "customer_id": "C001",
        "signal_type": "usage_drop",
        "signal_strength": 0.4,
        "detected_at": "2025-13-45",
        "source": "automated",
    },
    {
        "signal_id": "SX3",
        "customer_id": "C001",
        "signal_type": "usage_drop",
        "signal_strength": 0.4,
        "detected_at": "2025-01-14",
        "source": "robot",
    },
    {
        "signal_id": "SX4",
        "customer_id": "C001",
        "signal_type": "Brand_New_Type",
        "signal_strength": 0.4,
        "detected_at": "2025-01-14",
        "source": "manual",
    },
]
BAD_INTERVENTIONS = [
    {
        "intervention_id": "IX1",
        "customer_id": "C001",
        "recommended_action": "monitor_only",
        "confidence": 1.2,
        "requires_human_approval": False,
        "generated_at": "2025-01-15",
    },
    {
        "intervention_id": "IX2",
        "customer_id": "C001",
        "recommended_action": "send_flowers",
        "confidence": 0.5,
        "requires_human_approval": False,
        "generated_at": "2025-01-15",
    },
    {
        "intervention_id": "IX3",
        "customer_id": "C001",
        "recommended_action": "monitor_only",
        "confidence": 0.5,
        "requires_human_approval": "yes",
        "generated_at": "2025-01-15",
    },
]


def test_every_reject_reason_is_recorded_and_accounted(tmp_path: Path, dbt_build) -> None:
    feeds = write_feeds(
        tmp_path / "bad",
        {
            "customers": load_sample("customers") + BAD_CUSTOMERS,
            "journey_state_log": load_sample("journey_state_log") + BAD_LOG,
            "signals": load_sample("signals") + BAD_SIGNALS,
            "interventions": load_sample("interventions") + BAD_INTERVENTIONS,
            "outcomes": [],  # an empty array is a valid, empty feed
        },
        ndjson={"signals"},
        bom={"signals", "interventions"},  # BOM on NDJSON and on a JSON array
    )
    db = tmp_path / "bad.duckdb"
    result = dbt_build(db, feeds, args=STAGED)
    assert result.ok, result.output[-4000:]

    rejected = query(db, "select source, coalesce(record_key, '<none>'), reason from quality.rejected_rows")
    assert sorted(rejected) == sorted(
        [
            ("customers", "<none>", "missing_key"),
            ("customers", "X01", "wrong_type"),
            ("customers", "X02", "out_of_range"),
            ("customers", "X03", "unknown_value"),
            ("customers", "X04", "missing_field"),
            ("customers", "X05", "wrong_type"),
            ("customers", "X07", "duplicate_key_conflict"),
            ("customers", "X07", "duplicate_key_conflict"),
            ("interventions", "IX1", "out_of_range"),
            ("interventions", "IX2", "unknown_value"),
            ("interventions", "IX3", "wrong_type"),
            ("journey_state_log", "C001|01/03/2025", "unparseable_date"),
            ("journey_state_log", "C001|2025-01-02", "unknown_value"),
            ("journey_state_log", "C001|2025-01-04", "out_of_range"),
            ("signals", "SX1", "out_of_range"),
            ("signals", "SX2", "unparseable_date"),
            ("signals", "SX3", "unknown_value"),
        ]
    )
    details = dict(
        query(db, "select record_key, reason_detail from quality.rejected_rows where record_key is not null")
    )
    assert details["SX1"] == "signal_strength: 1.4 is outside [0, 1]"
    assert details["X01"] == 'account_value: expected a finite number, got varchar "12000"'
    assert details["SX2"] == 'detected_at: "2025-13-45" is not a date (YYYY-MM-DD)'
    raw = query(db, "select raw_record, loaded_from from quality.rejected_rows where record_key = 'IX2'")[0]
    assert '"send_flowers"' in raw[0] and raw[1].endswith("interventions.json")

    # input = staged + rejected + collapsed duplicates, per feed
    assert accounting(db) == {
        "customers": (20, 11, 8, 1),
        "journey_state_log": (13, 10, 3, 0),
        "signals": (16, 13, 3, 0),
        "interventions": (11, 8, 3, 0),
        "outcomes": (0, 0, 0, 0),
    }
    # the exact duplicate X06 is staged once, normalized, and its copies counted; an unknown signal type is kept
    assert query(
        db,
        "select segment, risk_tier, tenure_months, duplicate_count from staging.stg_customers where customer_id = 'X06'",
    ) == [("smb", "low", 3, 2)]
    assert query(db, "select signal_type from staging.stg_signals where signal_id = 'SX4'") == [
        ("brand_new_type",)
    ]


def test_ndjson_sample_stages_like_the_arrays(tmp_path: Path, dbt_build) -> None:
    feeds = write_feeds(tmp_path / "nd", {feed: load_sample(feed) for feed in FEEDS}, ndjson=set(FEEDS))
    db = tmp_path / "nd.duckdb"
    result = dbt_build(db, feeds, args=STAGED)
    assert result.ok, result.output[-4000:]
    assert accounting(db) == {feed: (n, n, 0, 0) for feed, n in SAMPLE_COUNTS.items()}


def test_bad_files_stop_the_build_and_keep_previous_tables(
    tmp_path: Path, dbt_build, sample_copy, sample_db: Path
) -> None:
    db = copy_db(sample_db, tmp_path / "kept")  # the previous tables: the sample, built
    before = query(db, "select count(*) from staging.stg_signals")
    assert before == [(12,)]

    cases = {
        "missing": (
            lambda folder: (folder / "outcomes.json").unlink(),
            ["Feed 'outcomes' is missing", "outcomes.json"],
        ),
        "malformed": (
            lambda folder: (folder / "signals.json").write_text('[{"signal_id": "S1", '),
            ["Malformed JSON", "signals.json"],
        ),
        "truncated": (
            lambda folder: (folder / "signals.json").write_text('[{"signal_id": "S1"},\n'),
            ["Feed 'signals'", "signals.json", "does not end with ']'"],
        ),
    }
    for name, (damage, messages) in cases.items():
        folder = sample_copy(name)
        # a changed good feed next to the bad one must not be half-applied
        write_feeds(folder, {"customers": load_sample("customers")[:3]})
        damage(folder)
        result = dbt_build(db, folder)
        assert not result.ok, name
        for message in messages:
            assert message in result.output, (name, message, result.output[-2000:])
        assert query(db, "select count(*) from staging.stg_signals") == before, name
        assert query(db, "select count(*) from staging.stg_customers") == [(10,)], name

    # a command that reads no feed does not check them: `journey run`'s build downstream of the policy and a
    # rebuild of one mart skip the on-run-start checks (3 s at 1M customers) ...
    folder = sample_copy("mart_only")
    (folder / "outcomes.json").unlink()
    mart_only = dbt_build(db, folder, args=["-s", "kpi_overview", "--indirect-selection", "cautious"])
    assert mart_only.ok, mart_only.output[-2000:]
    # ... and one that does read a feed still stops on the missing file
    staged = dbt_build(db, folder, args=["-s", "base_outcomes", "--indirect-selection", "cautious"])
    assert not staged.ok and "Feed 'outcomes' is missing" in staged.output, staged.output[-2000:]


def test_files_too_big_for_the_byte_check_must_be_ndjson(tmp_path: Path) -> None:
    """DuckDB's read_blob cannot hold a file of 4 GiB or more, so the truncated-array check reads only files up
    to var feed_blob_limit_bytes (2 GiB); a bigger file must be newline-delimited JSON (DuckDB's own parse
    then reports a cut-off record). Lowered here to 100 bytes: the sample's records as NDJSON pass, the same
    customers as a JSON array are refused by name.

    It is also the test of `--vars` (README): the limit has no environment variable, and the var input_dir
    wins over the environment's JOURNEY_INPUT_DIR (the sample's arrays, which would be refused). One session
    with its own target folder (a change of --vars re-parses the whole project): parsed once, two builds."""
    db = tmp_path / "big.duckdb"
    feeds = write_feeds(tmp_path / "nd", {feed: load_sample(feed) for feed in FEEDS}, ndjson=set(FEEDS))
    session = DbtSession(
        db=db,
        input_dir=SAMPLE_DIR,  # JOURNEY_INPUT_DIR: JSON arrays, over the limit
        target_path=tmp_path / "target",
        extra_vars={"feed_blob_limit_bytes": 100, "input_dir": str(feeds)},
    )
    select = ["build", "-s", "+stg_customers", "--indirect-selection", "cautious"]
    ndjson = session.invoke(select)
    assert ndjson.ok, ndjson.output[-2000:]
    assert query(db, "select count(*) from staging.stg_customers") == [(10,)]
    assert query(db, "select distinct loaded_from from staging.stg_customers") == [
        (str(feeds / "customers.json"),)
    ]

    (feeds / "customers.json").write_text(json.dumps(load_sample("customers")))
    arrays = session.invoke(select)
    assert not arrays.ok
    assert "is over 100 bytes and is not newline-delimited JSON" in arrays.output, arrays.output[-2000:]
    assert "Feed 'customers'" in arrays.output
    assert query(db, "select count(*) from staging.stg_customers") == [(10,)]
