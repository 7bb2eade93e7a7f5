"""The whole loop in a real headless browser (Debian's chromium, driven by Selenium).

A counter registered with a real HQ records a walk-in sale and prints an invite with
`posapp invite`; the "customer" opens that URL in chromium, ticks consents, types the
phone and the code the development SMS sender wrote, and joins; `posapp sync --once`
then shows the new member at the counter with the right guide and the sale attached.
Screenshots of each page state (zh and en) go to $POSAPP_SCREENSHOT_DIR when it is set
(docs/screenshots/join/ holds the committed ones).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from browser_harness import chromium, post_form
from join_world import GUIDE, JoinWorld, join_world
from sync_world import now
from sysdeps import browser_problem, require

from posapp.hq import admin
from posapp.store.db import connect_raw

PHONE = "13812345678"
BRAND = "悦己生活"  # HQ's brand setting: the page names it, never our software
E164 = "+8613812345678"


@pytest.fixture
def world(tmp_path: Path) -> Iterator[JoinWorld]:
    with join_world(tmp_path, POSAPP_HQ_BRAND_NAME=BRAND) as started:
        yield started


def _posapp(data: Path, *args: str) -> str:
    done = subprocess.run([sys.executable, "-m", "posapp", "--data-dir", str(data), *args],
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr + done.stdout
    return done.stdout


class Shots:
    def __init__(self, driver, folder: Path | None, lang: str) -> None:
        self.driver, self.folder, self.lang = driver, folder, lang

    def take(self, state: str) -> None:
        if self.folder is None:
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        height = self.driver.execute_script("return document.body.scrollHeight")
        self.driver.set_window_size(412, max(700, min(int(height) + 40, 2400)))
        self.driver.save_screenshot(str(self.folder / f"{self.lang}-{state}.png"))


def _shots_dir() -> Path | None:
    folder = os.environ.get("POSAPP_SCREENSHOT_DIR")
    return Path(folder) if folder else None


def test_a_customer_joins_in_a_real_browser_and_the_counter_sees_them(
    world: JoinWorld, tmp_path: Path
) -> None:
    require(browser_problem())
    from selenium.webdriver.common.by import By

    till = tmp_path / "till"
    with world.hq_db.write() as session:
        code = admin.device_code(session, store_id="a", now=now(), minutes=10)
    _posapp(till, "register", "--hq", world.base, "--code", code, "--name", "till-1")
    _posapp(till, "sync", "--once")  # roster and HQ's channel templates arrive
    _posapp(till, "sale", "--receipt", "W-1", "--amount", "88.00", "--staff", GUIDE)
    printed = _posapp(till, "invite", "--walk-in", "--sale", "W-1", "--staff", GUIDE)
    url = re.search(r"(http://\S+/j/\w+)", printed)
    assert url is not None, printed
    _posapp(till, "sync", "--once")  # the sale and its invite reach HQ

    driver = chromium("zh-CN")
    shots = Shots(driver, _shots_dir(), "zh")
    try:
        driver.get(url.group(1))
        assert "静安店" in driver.page_source and driver.find_element(By.ID, "send")
        assert driver.title == f"加入{BRAND}会员" and "posapp" not in driver.page_source.lower()
        shots.take("1-form")
        driver.find_element(By.ID, "consent-membership").click()
        driver.find_element(By.ID, "consent-guide_contact").click()  # marketing left unticked
        driver.find_element(By.ID, "phone").send_keys(PHONE)
        post_form(driver, "send")
        assert "138****5678" in driver.page_source, driver.page_source[-1500:]
        shots.take("2-code-sent")
        sms = world.code_for(E164)
        assert sms is not None
        driver.find_element(By.ID, "code").send_keys("000000" if sms != "000000" else "111111")
        post_form(driver, "submit")
        assert "验证码不正确" in driver.find_element(By.ID, "message").text
        shots.take("3-wrong-code")
        box = driver.find_element(By.ID, "code")
        box.clear()
        box.send_keys(sms)
        post_form(driver, "submit")
        welcome = driver.find_element(By.ID, "welcome")
        member_code = welcome.get_attribute("data-member-code")
        assert "欢迎加入" in welcome.text and member_code
        assert driver.find_element(By.CSS_SELECTOR, "svg.qr")
        cards = driver.find_elements(By.CSS_SELECTOR, ".card")
        assert cards and all(card.text.strip() for card in cards), "an empty card on the page"
        shots.take("4-welcome")
        driver.get(url.group(1))  # the same QR again: spent
        assert driver.find_element(By.ID, "refused").get_attribute("data-kind") == "used"
        shots.take("5-used")
    finally:
        driver.quit()

    _posapp(till, "sync", "--once")
    with connect_raw(till / "posapp.db") as db:
        member = db.execute(
            "SELECT id, member_code, guide_id, visit_count, lifetime_spend_fen FROM member"
            " WHERE phone_e164 = ?",
            (E164,),
        ).fetchone()
        sale = db.execute("SELECT member_id FROM purchase WHERE receipt_no = 'W-1'").fetchone()
    assert member is not None, "the new member did not reach the counter"
    assert member[1] == member_code and member[2] == GUIDE
    # The walk-in sale the invite was printed for is the member's now: at HQ, in the
    # counter's own record of it, and in the visits and spend that came down with the member.
    assert world.scalar("SELECT member_id FROM sale WHERE receipt_no = 'W-1'") == member[0]
    assert sale == (member[0],)
    assert member[3:] == (1, 8800)


def test_the_english_page_states_in_a_real_browser(world: JoinWorld) -> None:
    """English by the browser's language, and the friendly expired-QR page (both languages)."""
    require(browser_problem())
    from selenium.webdriver.common.by import By

    for lang, tag in (("en", "en-US"), ("zh", "zh-CN")):
        driver = chromium(tag)
        shots = Shots(driver, _shots_dir(), lang)
        try:
            if lang == "en":
                driver.get(f"{world.base}/j/{world.token(serial=7)}")
                assert "Send code" in driver.page_source and driver.title == f"Join {BRAND}"
                shots.take("1-form")
                driver.find_element(By.ID, "notice").click()  # the full notice, one tap away
                assert "privacy" in driver.find_element(By.ID, "notice").text.lower()
                shots.take("1b-notice-open")
                driver.find_element(By.ID, "phone").send_keys(PHONE)
                post_form(driver, "send")  # membership not ticked
                assert "needed to join" in driver.find_element(By.ID, "message").text
                shots.take("2-membership-needed")
            expired = world.token(day=now().date() - timedelta(days=30), serial=8)
            driver.get(f"{world.base}/j/{expired}")
            refused = driver.find_element(By.ID, "refused")
            assert refused.get_attribute("data-kind") == "expired"
            assert ("cashier" if lang == "en" else "收银员") in refused.text
            shots.take("6-expired")
        finally:
            driver.quit()
