"""Input that must never reach a mart, and input that must not become code, on real dbt builds.

The bad values are injected into every field of their kind, the kinds read off the sample itself (a field whose
sample values are JSON numbers is a number field, one holding YYYY-MM-DD strings a date field), so a field added
to a feed is covered without editing this test.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import duckdb

from journey.dbt_session import DbtSession
from journey.project import DbtResult
from journey.run import EXIT_USAGE, classify_dbt_failure
from tests.conftest import FEEDS, KEYS, SAMPLE_DIR, copy_db, load_sample, query

NON_FINITE = ("NaN", "Infinity", "-Infinity", "1e400")
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
SELECTION = [
    "-s",
    "+rejected_rows",
    "+feed_accounting",
    "+int_as_of_date",
    "--indirect-selection",
    "cautious",
]


def fields_of_kind(feed: str, kind: str) -> list[str]:
    """The fields of a feed whose every non-null sample value is a number (kind 'number') or a date string."""
    records = load_sample(feed)
    names = dict.fromkeys(name for record in records for name in record)
    values = {name: [r[name] for r in records if r.get(name) is not None] for name in names}
    if kind == "number":
        test = lambda v: isinstance(v, int | float) and not isinstance(v, bool)  # noqa: E731
    else:
        test = lambda v: isinstance(v, str) and bool(DATE.match(v))  # noqa: E731
    return [name for name, seen in values.items() if seen and all(test(v) for v in seen)]


def with_new_key(feed: str, record: dict, n: int) -> dict:
    """A copy of a sample record under a key no other record has (the journey log's key includes the date)."""
    copy = dict(record)
    copy[KEYS[feed]] = f"X{n:03d}"
    return copy


def hostile_feeds(folder: Path) -> dict[str, dict[str, str]]:
    """Write the sample plus, per feed: a non-finite value in every number field, a far date in every date
    field, and the key twice in one object. Returns feed -> {record key: the field that is bad}."""
    folder.mkdir(parents=True)
    expected: dict[str, dict[str, str]] = {}
    for feed in FEEDS:
        template = load_sample(feed)[0]
        texts = [json.dumps(record) for record in load_sample(feed)]
        bad: dict[str, str] = {}
        n = 0
        for field in fields_of_kind(feed, "number"):
            for value in NON_FINITE:
                n += 1
                record = with_new_key(feed, template, n)
                record[field] = "__VALUE__"
                texts.append(json.dumps(record).replace('"__VALUE__"', value))
                # a whole-number field says "expected a whole number", any other "expected a finite number"
                bad[record[KEYS[feed]]] = f'{field}: expected a * number, got double "{value}"'
        for field in fields_of_kind(feed, "date"):
            n += 1
            record = with_new_key(feed, template, n)
            record[field] = "9999-12-31"
            texts.append(json.dumps(record))
            bad[record[KEYS[feed]]] = (
                f"{field}: 9999-12-31 is outside the plausible dates [2000-01-01, 2099-12-31]"
            )
        n += 1
        record = with_new_key(feed, template, n)
        key = KEYS[feed]
        twice = json.dumps(record).replace(f'"{key}": ', f'"{key}": "{record[key]}", "{key}": ', 1)
        texts.append(twice)
        bad[record[key]] = f"{key}: the field appears more than once in one JSON object"
        (folder / f"{feed}.json").write_text("[\n" + ",\n".join(texts) + "\n]\n", encoding="utf-8")
        expected[feed] = bad
    return expected


def build(db: Path, input_dir: Path, target: Path, args: list[str]) -> DbtResult:
    return DbtSession(db=db, input_dir=input_dir, target_path=target).invoke(["build", *args])


def test_hostile_records_are_rejected_with_a_reason_and_a_quote_in_the_path_is_read(
    tmp_path: Path, dbt_target: Path
) -> None:
    # the folder's name would break any SQL that pastes paths: glob('…'), read_json_objects('…'), read_blob('…')
    feeds = tmp_path / "O'Brien's {feeds}"
    expected = hostile_feeds(feeds)
    assert {feed: len(bad) for feed, bad in expected.items()} == {
        "customers": 2 * 4 + 1,  # account_value, tenure_months; the key twice
        "journey_state_log": 4 + 1 + 1,  # days_in_state; state_entered_at; the key twice
        "signals": 4 + 1 + 1,
        "interventions": 2 * 4 + 1 + 1,  # confidence, evaluation_latency_ms; generated_at
        "outcomes": 4 * 4 + 1 + 1,
    }
    db = tmp_path / "hostile.duckdb"
    result = build(db, feeds, dbt_target, SELECTION)
    assert result.ok, result.failures or result.output[-3000:]

    rejected = query(
        db, "select source, record_key, reason, reason_detail, loaded_from from quality.rejected_rows"
    )
    found = {(source, key): (reason, detail) for source, key, reason, detail, _ in rejected}
    for feed, bad in expected.items():
        for key, detail in bad.items():
            record_key = key if feed != "journey_state_log" else None
            matches = [
                (reason, text)
                for (source, found_key), (reason, text) in found.items()
                if source == feed
                and (found_key == key or (record_key is None and found_key.startswith(key + "|")))
            ]
            assert len(matches) == 1, (feed, key, matches)
            reason, text = matches[0]
            pattern = ".*".join(re.escape(part) for part in detail.split(" * "))  # "expected a * number"
            assert re.search(pattern, text), (feed, key, text)
            assert reason == (
                "duplicate_field"
                if "more than once" in detail
                else "wrong_type"
                if "expected" in detail
                else "out_of_range"
            ), (feed, key, reason)
    assert len(rejected) == sum(len(bad) for bad in expected.values())
    assert {Path(path).parent.name for *_, path in rejected} == {feeds.name}

    # nothing lost: every feed balances, the sample's rows are all staged, the far date did not decide as_of_date
    accounting = query(
        db, "select source, input_records, staged_records, rejected_records from quality.feed_accounting"
    )
    for source, total, staged, bad_count in accounting:
        assert (
            bad_count == len(expected[source])
            and staged == len(load_sample(source))
            and total == staged + bad_count
        )
    assert query(db, "select as_of_date::varchar from intermediate.int_as_of_date") == [("2025-01-20",)]


def test_an_empty_feed_file_stops_the_build_naming_every_empty_file(tmp_path: Path, dbt_target: Path) -> None:
    feeds = tmp_path / "feeds"
    shutil.copytree(SAMPLE_DIR, feeds, ignore=shutil.ignore_patterns("*.csv", "*.yml"))
    (feeds / "customers.json").write_text(" \n\t\n")
    (feeds / "signals.json").write_bytes(b"")
    (feeds / "outcomes.json").write_text("[]")  # no records today: fine
    result = build(tmp_path / "empty.duckdb", feeds, dbt_target, SELECTION)
    assert not result.ok
    (failure,) = result.failures
    assert failure == (
        f"Feed 'customers' file {feeds / 'customers.json'}, Feed 'signals' file {feeds / 'signals.json'} are empty"
        " (zero bytes or only blanks): a failed delivery? Deliver the file again; a feed with no records today is"
        " an empty JSON array []."
    )
    assert not (tmp_path / "empty.duckdb").exists() or query(
        tmp_path / "empty.duckdb",
        "select count(*) from information_schema.tables where table_schema = 'staging'",
    ) == [(0,)]


def test_risk_weights_that_do_not_sum_to_one_name_the_file_and_the_sum(
    sample_db: Path, tmp_path: Path, dbt_target: Path
) -> None:
    db = copy_db(sample_db, tmp_path / "db")
    with duckdb.connect(str(db)) as connection:
        connection.execute(
            "update reference.ref_risk_factors set weight = 0.30 where risk_factor = 'signal_pressure'"
        )
    result = DbtSession(db=db, input_dir=SAMPLE_DIR, target_path=dbt_target).invoke(
        ["run", "-s", "int_scoring_config"]
    )
    assert not result.ok
    (failure,) = result.failures
    assert failure.startswith("model int_scoring_config (models/intermediate/risk/int_scoring_config.sql): ")
    assert failure.endswith(
        "Config seeds/ref_risk_factors.csv: the risk factor weights sum to 0.95; they must sum to 1"
        " (so that risk_score stays in [0, 1])"
    )
    assert classify_dbt_failure(result) == EXIT_USAGE
