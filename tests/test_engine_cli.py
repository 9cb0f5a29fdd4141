"""`zkmargin margin` and `zkmargin schema`: JSON and table output, exit codes, and one
ERROR line naming the error for malformed input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli import app
from engine import (
    MODELS,
    MarginReport,
    compute_margin,
    example_path,
    load_example_account,
    load_example_snapshot,
)

ZKMARGIN = Path(sys.executable).parent / "zkmargin"
SNAPSHOT = example_path("snapshot")
runner = CliRunner()


def run(*args: str | Path) -> tuple[int, str, str]:
    result = runner.invoke(app, [str(a) for a in args])
    return result.exit_code, result.stdout, result.stderr


def test_margin_prints_the_report_as_json() -> None:
    code, out, _ = run("margin", example_path("healthy_cross"), "--snapshot", SNAPSHOT)
    assert code == 0
    report = MarginReport.model_validate_json(out)
    assert report == compute_margin(load_example_account("healthy_cross"), load_example_snapshot())
    assert report.healthy


def test_margin_table_and_check_exit_codes() -> None:
    code, out, _ = run("margin", example_path("liquidatable"), "-s", SNAPSHOT, "--table")
    assert code == 0
    assert "LIQUIDATABLE" in out and "BTC-PERP" in out and "maintenance requirement" in out
    code, out, _ = run("margin", example_path("options_portfolio"), "-s", SNAPSHOT, "--table")
    assert code == 0 and "healthy" in out and "portfolio margin" in out and "price +15%, vol +25%" in out
    assert run("margin", example_path("liquidatable"), "-s", SNAPSHOT, "--check")[0] == 1
    assert run("margin", example_path("healthy_cross"), "-s", SNAPSHOT, "--check")[0] == 0


def _write(tmp_path: Path, name: str, data: object) -> Path:
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    return path


@pytest.mark.parametrize(
    ("account", "error"),
    [
        ({"id": "a", "collateral": {"USDC": -1}}, "NegativeCollateralError: a: collateral USDC = -1 is negative"),
        ({"id": "a", "positions": [{"market": "DOGE-PERP", "size": 1}]}, "UnknownMarketError"),
        ({"id": "a", "collateral": {"DOGE": 1}}, "UnknownAssetError"),
        ({"id": "a", "positions": [{"market": "BTC-PERP", "size": 2**64}]}, "ValueOutOfRangeError"),
        ({"id": "a", "quote_balance": 1.5}, "MalformedInputError"),
        ("{not json", "MalformedInputError"),
    ],
)
def test_malformed_accounts_are_one_error_line_and_exit_2(tmp_path: Path, account: object, error: str) -> None:
    path = _write(tmp_path, "account.json", account)
    code, out, err = run("margin", path, "--snapshot", SNAPSHOT)
    assert code == 2 and out == ""
    assert err.startswith(f"ERROR: {error}") and err.count("\n") == 1


def test_malformed_and_stale_snapshots(tmp_path: Path) -> None:
    acct = example_path("healthy_cross")
    data = json.loads(SNAPSHOT.read_text())
    del data["index_prices"]["BTC"]
    bad = _write(tmp_path, "snapshot.json", data)
    code, _, err = run("margin", acct, "--snapshot", bad)
    assert code == 2 and err.startswith("ERROR: MissingPriceError: no index price for asset BTC")
    timestamp = load_example_snapshot().timestamp
    code, _, err = run("margin", acct, "-s", SNAPSHOT, "--max-age", "60", "--now", str(timestamp + 61))
    assert code == 2 and err.startswith("ERROR: StalePriceError")
    assert run("margin", acct, "-s", SNAPSHOT, "--max-age", "60", "--now", str(timestamp + 60))[0] == 0
    code, _, err = run("margin", acct, "-s", tmp_path / "missing.json")
    assert code == 2 and err.startswith("ERROR: cannot read or write")


def test_schema_all_and_one() -> None:
    code, out, _ = run("schema")
    assert code == 0 and set(json.loads(out)) == set(MODELS)
    code, out, _ = run("schema", "marginreport")
    assert code == 0 and json.loads(out)["title"] == "MarginReport"
    code, _, err = run("schema", "Nope")
    assert code == 2 and err.startswith("ERROR: UnknownSchemaError: no model named Nope")


def test_console_script_end_to_end() -> None:
    proc = subprocess.run(
        [str(ZKMARGIN), "margin", str(example_path("isolated")), "--snapshot", str(SNAPSHOT)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["account_id"] == "carol" and report["healthy"] is True
    assert [p["margin"] for p in report["positions"]] == ["cross", "isolated"]
