"""The explorer in a real browser: `zkmargin ledger serve` as its own process on
127.0.0.1, Debian's headless chromium driven by chromedriver (selenium), through the
epochs, an epoch, an entry, a proof download and the audit, reading what a person
reads; then another process appends epoch 8 while the pages are read, which must stay
consistent, and the new epoch appears. Screenshots go to tests/screenshots/ (git-ignored).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver

from engine import read_state
from tests._settling import S7, S8, copy_venue
from verifier import Proof, PublicSignals, VerifyingKey, verify

ZKMARGIN = Path(sys.executable).parent / "zkmargin"
SHOTS = Path(__file__).resolve().parent / "screenshots"
CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def get_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=30) as response:
        return json.loads(response.read())


@pytest.fixture(scope="module")
def served(first: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str]]:
    """A copy of the settled venue, served by `zkmargin ledger serve` on a free port."""
    d = copy_venue(first, tmp_path_factory.mktemp("served"))
    port = _free_port()
    log = (d / "serve.log").open("w")
    proc = subprocess.Popen([str(ZKMARGIN), "ledger", "serve", str(d / "ledger.db"), "--port", str(port)],
                            stdout=log, stderr=subprocess.STDOUT)  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            get_json(f"{base}/api/head")
            break
        except (urllib.error.URLError, ConnectionError):
            assert proc.poll() is None and time.monotonic() < deadline, (d / "serve.log").read_text()
            time.sleep(0.2)
    yield d, base
    proc.terminate()
    proc.wait(timeout=20)
    log.close()


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebDriver]:
    downloads = tmp_path_factory.mktemp("downloads")
    options = Options()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage", f"--user-data-dir={tmp_path_factory.mktemp('chromium')}"):  # fmt: skip
        options.add_argument(flag)
    options.add_experimental_option("prefs", {"download.default_directory": str(downloads),
                                              "download.prompt_for_download": False})  # fmt: skip
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_window_size(1400, 1100)
    driver.downloads = downloads  # type: ignore[attr-defined]
    SHOTS.mkdir(exist_ok=True)
    yield driver
    driver.quit()


def text(driver: WebDriver) -> str:
    return str(driver.find_element(By.TAG_NAME, "body").text)


def downloaded(driver: WebDriver, name: str) -> str:
    path = Path(driver.downloads) / name  # type: ignore[attr-defined]
    deadline = time.monotonic() + 20
    while not path.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    return path.read_text()


def audit_page(driver: WebDriver, base: str) -> str:
    """The audit page once the server's background audit covers the current head (the
    page refreshes itself while it runs)."""
    driver.get(base + "/audit")
    deadline = time.monotonic() + 120
    while "AUDIT RUNNING" in (page := text(driver)) or "a new audit is running" in page:
        assert time.monotonic() < deadline, page
        time.sleep(0.5)
    return page


def test_a_person_walks_the_epochs_an_epoch_an_entry_a_proof_and_the_audit(
    served: tuple[Path, str], browser: WebDriver
) -> None:
    _, base = served
    browser.get(base + "/")
    page = text(browser)
    assert "Epochs" in page and f"epoch {S7.epoch}" in page and "closed" in page and "Chain head" in page
    browser.save_screenshot(str(SHOTS / "1-epochs.png"))

    browser.find_element(By.LINK_TEXT, f"epoch {S7.epoch}").click()
    page = text(browser)
    assert browser.current_url.endswith(f"/epochs/{S7.epoch}")
    for expected in ("65,000.000000", "BTC-PERP", "insurance fund", "50,000.000000", "alice", "proven", "Accounts (6)"):
        assert expected in page, expected
    browser.save_screenshot(str(SHOTS / "2-epoch.png"))

    rows = browser.find_elements(By.CSS_SELECTOR, "table tr td:first-child a")
    entry_seq = rows[-6].text  # the first account's commitment entry
    proof_link = browser.find_elements(By.LINK_TEXT, "proof.json")[0]
    public_link = browser.find_elements(By.LINK_TEXT, "public.json")[0]
    proof_url, public_url = proof_link.get_attribute("href"), public_link.get_attribute("href")
    proof_link.click()
    public_link.click()
    seq = proof_url.rstrip("/").split("/")[-2]
    proof = Proof.from_json(downloaded(browser, f"entry-{seq}-proof.json"))
    public = PublicSignals.from_json(downloaded(browser, f"entry-{seq}-public.json"))
    assert public_url.endswith(f"/entries/{seq}/public.json")
    key = VerifyingKey.from_json(urllib.request.urlopen(f"{base}/epochs/{S7.epoch}/verification_key.json").read())
    assert verify(key, public, proof)

    browser.find_element(By.LINK_TEXT, entry_seq).click()
    page = text(browser)
    assert f"Entry {entry_seq}: commitment" in page and "✓ recomputed" in page and "Its line of the chain" in page
    browser.save_screenshot(str(SHOTS / "3-entry.png"))

    browser.find_element(By.LINK_TEXT, "Audit").click()
    page = audit_page(browser, base)
    assert "AUDIT OK" in page and "zkmargin ledger audit ledger.db --head" in page and "snarkjs groth16 verify" in page
    browser.save_screenshot(str(SHOTS / "4-audit.png"))


def test_the_pages_stay_consistent_while_another_process_appends_an_epoch(
    served: tuple[Path, str], browser: WebDriver, keys: tuple[Path, Path]
) -> None:
    d, base = served
    accounts = read_state(d / "state", S7.epoch)
    assert accounts is not None
    folder = d / "epoch8-accounts"
    folder.mkdir()
    for a in accounts:
        (folder / f"{a.id}.json").write_text(a.model_dump_json())
    (d / "s8.json").write_text(S8.model_dump_json())
    env = {**os.environ, "COLUMNS": "200"}
    writer = subprocess.Popen(
        [str(ZKMARGIN), "epoch", "run", "--accounts", str(folder), "--snapshot", str(d / "s8.json"),
         "--ledger", str(d / "ledger.db"), "--zkey", str(keys[0]), "--salts", str(d / "salts")],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
    )  # fmt: skip
    heads, polls, saw_open = [], 0, False
    while writer.poll() is None or polls < 3:
        data = get_json(f"{base}/api/epochs")
        for row in data["epochs"]:
            assert row["proven"] + row["flagged"] + row["pending"] == row["accounts"], row
            assert row["head_seq"] <= data["head"]["seq"]
            saw_open |= row["epoch"] == S8.epoch and not row["closed"]
        heads.append(data["head"]["seq"])
        browser.get(base + "/")
        assert "Chain head" in text(browser)
        polls += 1
    output = writer.communicate()[0]
    assert writer.returncode == 0, output
    assert heads == sorted(heads) and polls >= 3
    browser.get(base + "/")
    page = text(browser)
    assert f"epoch {S8.epoch}" in page and f"epoch {S7.epoch}" in page
    browser.save_screenshot(str(SHOTS / "5-epochs-after-append.png"))
    browser.find_element(By.LINK_TEXT, f"epoch {S8.epoch}").click()
    assert "Accounts (6)" in text(browser)
    page = audit_page(browser, base)
    assert "AUDIT OK" in page, page[:2000]
    print(f"{polls} polls while the writer ran; saw epoch {S8.epoch} open: {saw_open}; heads {heads[0]}..{heads[-1]}")
