"""Prove it (issue 19): the learning marts recover relationships the generator planted, and flag nothing
beyond the nominal false-positive rate when nothing was planted.

Two feed sets of the same seed: one with every injection of `journey generate --inject` at its configured
strength (journey/generator_defaults.yml, docs/generator-injections.md), one with none. Each is built by the
real dbt on DuckDB: the seeds once, then `dbt run` of the learning marts and everything upstream of them on a
copy per set (not the whole `journey run`: the policy adds interventions without outcomes, which none of these
measures counts, and its tests and reports would double the time). 20,000 customers: about 600 recorded outcomes
per confidence bin, so an adjacent pair of bins 0.1 apart is more than three standard errors apart and the
monotonicity below is not left to luck; the feeds' own as-of date leaves three quarters of the signals a complete
follow-up window.

The false-positive bound. Under a null hypothesis each group's 95 % interval (confidence_level from
ref_experiment_parameters, via intermediate.int_impact_parameters) excludes the null value with probability
alpha (two-sided: 1 - confidence_level; one side only: half of it). Counting flagged groups among m, the test
allows the largest count a Binomial(m, alpha) reaches with probability at least NULL_TAIL (0.1 %): more than that
is a false-positive rate above nominal, not bad luck. The groups of one mart share customers, so they are not
quite independent; the bound is the nominal one all the same.
"""

from __future__ import annotations

import math
import shutil
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from journey.dbt_session import DbtSession
from journey.generate import INJECTIONS, Injections, generate

CUSTOMERS = 20_000
SEED = 19
MARTS = ("signal_effectiveness", "confidence_calibration", "action_performance")
SETTINGS = Injections.from_yaml(INJECTIONS)
SIGNAL_TYPE = SETTINGS["signal_precedes_escalation"]["signal_type"]
HARMFUL_ACTION = SETTINGS["harmful_action"]["action"]
NULL_TAIL = 0.001


def nominal_bound(groups: int, alpha: float, tail: float = NULL_TAIL) -> int:
    """The smallest k with P(X > k) <= tail for X ~ Binomial(groups, alpha)."""
    above = 1.0
    for k in range(groups + 1):
        above -= math.comb(groups, k) * alpha**k * (1 - alpha) ** (groups - k)
        if above <= tail:
            return k
    return groups


def test_nominal_bound() -> None:
    # Binomial(22, 0.025): P(X > 3) = 0.0019, P(X > 4) = 0.0002
    assert nominal_bound(22, 0.025) == 4
    assert nominal_bound(8, 0.05) == 3
    assert nominal_bound(8, 0.0) == 0


@pytest.fixture(scope="module")
def learned(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, duckdb.DuckDBPyConnection]]:
    """Read-only connections to the built marts of the 'injected' and the 'null' set."""
    root = tmp_path_factory.mktemp("recovery")
    feeds = {"injected": root / "injected", "null": root / "null"}
    generate(feeds["injected"], CUSTOMERS, SEED, injections=SETTINGS)
    generate(feeds["null"], CUSTOMERS, SEED)
    # Every command on one database path and its own target folder: the profile (which holds the path) stays
    # the same, so dbt parses the project once (one session: the seeds, then the null set's marts) and then only
    # what reads the input folder (the injected set's session); the session's target keeps its own parse. The
    # file keeps its name wherever it goes: dbt-duckdb names a view's database by the file's stem.
    target, work = root / "target", root / "work" / "learning.duckdb"
    work.parent.mkdir()
    seeded = root / "seeded.duckdb"
    selection = ["run", "--select", *(f"+{mart}" for mart in MARTS)]
    connections = {}
    for name in ("null", "injected"):
        session = DbtSession(db=work, input_dir=feeds[name], target_path=target)
        if name == "null":
            result = session.invoke(["seed"])
            assert result.ok, result.output[-4000:]
            shutil.copy(work, seeded)
        else:
            shutil.copy(seeded, work)
        result = session.invoke(selection)
        assert result.ok, result.output[-4000:]
        (feeds[name] / "db").mkdir()
        built = Path(shutil.move(work, feeds[name] / "db" / work.name))
        connections[name] = duckdb.connect(str(built), read_only=True)
    yield connections
    for connection in connections.values():
        connection.close()


def rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[tuple]:
    return con.execute(sql).fetchall()


def parameter(con: duckdb.DuckDBPyConnection, name: str) -> float:
    return con.execute(f"SELECT {name} FROM intermediate.int_learning_parameters").fetchone()[0]


def alpha(con: duckdb.DuckDBPyConnection, *, sides: int) -> float:
    level = con.execute("SELECT confidence_level FROM intermediate.int_impact_parameters").fetchone()[0]
    return (1 - level) / (2 if sides == 1 else 1)


# ------------------------------------------------------------------------------------ signal_effectiveness

SIGNAL_FLAG = "status = 'measured' AND precision_ci_lower > base_rate"  # more often followed than all signals


def test_injected_signal_type_ranks_first(learned: dict[str, duckdb.DuckDBPyConnection]) -> None:
    ranked = rows(
        learned["injected"],
        """SELECT signal_type, source, effectiveness_rank, lift FROM marts.signal_effectiveness
        WHERE effectiveness_rank IS NOT NULL ORDER BY effectiveness_rank, source""",
    )
    assert len(ranked) >= 20
    assert ranked[0][0] == SIGNAL_TYPE, ranked[:3]
    # every source of the type ranks above every other type, and is flagged
    typed = [row for row in ranked if row[0] == SIGNAL_TYPE]
    assert [row[2] for row in typed] == list(range(1, len(typed) + 1)), ranked[:4]
    flagged = rows(
        learned["injected"],
        f"SELECT DISTINCT signal_type FROM marts.signal_effectiveness WHERE {SIGNAL_FLAG}",
    )
    assert (SIGNAL_TYPE,) in flagged


def test_without_injection_signals_are_flagged_at_the_nominal_rate(
    learned: dict[str, duckdb.DuckDBPyConnection],
) -> None:
    con = learned["null"]
    measured = rows(con, "SELECT count(*) FROM marts.signal_effectiveness WHERE status = 'measured'")[0][0]
    flagged = rows(
        con, f"SELECT signal_type, source, lift FROM marts.signal_effectiveness WHERE {SIGNAL_FLAG}"
    )
    assert measured >= 20
    # one side: a precision interval wholly above the base rate
    assert len(flagged) <= nominal_bound(measured, alpha(con, sides=1)), flagged
    # and the injected type is not singled out without the injection
    top = rows(con, "SELECT signal_type, lift FROM marts.signal_effectiveness WHERE effectiveness_rank = 1")
    assert top[0][1] < 1.5, top


# ---------------------------------------------------------------------------------- confidence_calibration

BINS = """SELECT bin_order, recorded_outcomes, success_rate, success_rate_ci_lower, success_rate_ci_upper
    FROM marts.confidence_calibration
    WHERE origin = 'all' AND confidence_bin <> 'all' AND recorded_outcomes >= {minimum}
    ORDER BY bin_order"""
SUMMARY = """SELECT success_rate, expected_calibration_error FROM marts.confidence_calibration
    WHERE origin = 'all' AND confidence_bin = 'all'"""


def calibration_bins(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    return rows(con, BINS.format(minimum=parameter(con, "min_outcomes_per_bin")))


def test_injected_calibration_is_monotone(learned: dict[str, duckdb.DuckDBPyConnection]) -> None:
    bins = calibration_bins(learned["injected"])
    assert len(bins) >= 6, bins
    rates = [row[2] for row in bins]
    assert rates == sorted(rates) and len(set(rates)) == len(rates), bins
    # better calibrated than the feed without the injection (where success ignores confidence)
    injected_ece = rows(learned["injected"], SUMMARY)[0][1]
    null_ece = rows(learned["null"], SUMMARY)[0][1]
    assert injected_ece < null_ece / 2, (injected_ece, null_ece)


def test_without_injection_calibration_bins_are_flagged_at_the_nominal_rate(
    learned: dict[str, duckdb.DuckDBPyConnection],
) -> None:
    con = learned["null"]
    bins = calibration_bins(con)
    overall = rows(con, SUMMARY)[0][0]
    assert len(bins) >= 6, bins
    # flagged: a bin whose success rate differs from the overall one (two-sided)
    differing = [row for row in bins if not row[3] <= overall <= row[4]]
    assert len(differing) <= nominal_bound(len(bins), alpha(con, sides=2)), (overall, differing)
    # the monotonicity above is evidence: exchangeable bins come out in increasing order with chance 1/n!
    rates = [row[2] for row in bins]
    assert rates != sorted(rates), bins


# -------------------------------------------------------------------------------------- action_performance

FLAGGED_ACTIONS = "SELECT recommended_action FROM marts.action_performance WHERE is_worse_than_nothing"


def test_harmful_action_is_flagged(learned: dict[str, duckdb.DuckDBPyConnection]) -> None:
    flagged = rows(learned["injected"], FLAGGED_ACTIONS + " ORDER BY ALL")
    assert flagged == [(HARMFUL_ACTION,)]
    status, delta = rows(
        learned["injected"],
        f"""SELECT status, mean_churn_risk_delta FROM marts.action_performance
        WHERE recommended_action = '{HARMFUL_ACTION}'""",
    )[0]
    assert status == "measured" and delta > 0


def test_without_injection_actions_are_flagged_at_the_nominal_rate(
    learned: dict[str, duckdb.DuckDBPyConnection],
) -> None:
    con = learned["null"]
    measured = rows(con, "SELECT count(*) FROM marts.action_performance WHERE status = 'measured'")[0][0]
    flagged = rows(con, FLAGGED_ACTIONS)
    assert measured >= 6
    # one side: an interval wholly on the harmful side. The generator's actions all help on average (mean
    # churn_risk_delta about -0.12), so the true rate is far below even this bound: in practice none.
    assert len(flagged) <= nominal_bound(measured, alpha(con, sides=1)), flagged
    assert (HARMFUL_ACTION,) not in flagged
