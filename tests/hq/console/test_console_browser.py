"""The console in a real headless browser (Debian's chromium, driven by Selenium) against a
real `posapp hq serve`: the first admin made with `posapp hq user add`, then signing in
with TOTP, lock-out, store scope by URL, masked phones, CSRF, escaped names, a report equal
to its API answer, a counter registering with the code shown and receiving a rule changed
in the console, an erasure acknowledged by two counters, the third guide change refused —
and every screen drawn in zh and en without one CSP violation.

Screenshots of each screen go to $POSAPP_SCREENSHOT_DIR when it is set
(tools/console_screenshots.py sets it to docs/screenshots/hq/).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyotp
import pytest
import requests
from console_world import EAST_NAME, EAST_PHONE, WEST_NAME, WEST_PHONE
from live_hq import LiveHq, live_hq
from sysdeps import CHROMEDRIVER, CHROMIUM, browser_problem, page_replaced, require

from posapp.domain.phone import mask_phone

PASSWORD = "a long first password"
NASTY = '<script>alert("x")</script>😀 小美'


@pytest.fixture
def hq(tmp_path: Path) -> Iterator[LiveHq]:
    require(browser_problem())
    with live_hq(f"sqlite:///{tmp_path / 'hq.db'}", tmp_path / "hq") as started:
        yield started


def posapp_hq(hq: LiveHq, *args: str, password: str = PASSWORD) -> str:
    url = hq.db.engine.url.render_as_string(hide_password=False)
    done = subprocess.run([sys.executable, "-m", "posapp", "hq", "--db", url, *args, "--password-stdin"],
                          input=password + "\n", capture_output=True, text=True, timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr + done.stdout
    return done.stdout


def driver_for(lang: str) -> Any:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--window-size=1280,900", f"--lang={lang}", "--hide-scrollbars"):  # fmt: skip
        options.add_argument(arg)
    options.add_experimental_option("prefs", {"intl.accept_languages": lang})
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.implicitly_wait(5)
    return driver


class Browser:
    """One person at one browser."""

    def __init__(self, hq: LiveHq, lang: str = "zh-CN") -> None:
        self.hq, self.driver = hq, driver_for(lang)
        self.shots = (
            Path(os.environ["POSAPP_SCREENSHOT_DIR"])
            if os.environ.get("POSAPP_SCREENSHOT_DIR")
            else None
        )
        self.lang = "zh" if lang.startswith("zh") else "en"

    def open(self, path: str) -> Any:
        self.driver.get(self.hq.base + path)
        return self.driver

    def by(self, css: str) -> Any:
        from selenium.webdriver.common.by import By

        return self.driver.find_element(By.CSS_SELECTOR, css)

    def all(self, css: str) -> list[Any]:
        from selenium.webdriver.common.by import By

        return self.driver.find_elements(By.CSS_SELECTOR, css)

    def submit(self, button: str) -> None:
        """Click and wait until the answer has replaced the page."""
        from selenium.webdriver.support.ui import WebDriverWait

        page = self.by("html")
        self.by(button).click()
        WebDriverWait(self.driver, 15).until(page_replaced(page))

    def sign_in(self, username: str, password: str = PASSWORD) -> None:
        self.open("/console/login")
        self.by("#username").send_keys(username)
        self.by("#password").send_keys(password)
        self.submit("#submit")

    def code(self, secret: str, at: float | None = None) -> None:
        self.by("#code").send_keys(pyotp.TOTP(secret).at(at) if at else pyotp.TOTP(secret).now())
        self.submit("#submit")

    def csp_violations(self) -> list[str]:
        return [e["message"] for e in self.driver.get_log("browser")
                if "Content Security Policy" in e["message"] or "Refused to" in e["message"]]  # fmt: skip

    def shot(self, name: str) -> None:
        if self.shots is None:
            return
        self.shots.mkdir(parents=True, exist_ok=True)
        height = self.driver.execute_script("return document.body.scrollHeight")
        self.driver.set_window_size(1280, max(700, min(int(height) + 40, 2400)))
        self.driver.save_screenshot(str(self.shots / f"{self.lang}-{name}.png"))
        self.driver.set_window_size(1280, 900)

    def quit(self) -> None:
        self.driver.quit()


def two_regions(hq: LiveHq) -> dict[str, str]:
    """Stores east and west with a member each (enrolled and buying at their counters)."""
    ids = {}
    for store, phone, name in (("east", EAST_PHONE, EAST_NAME), ("west", WEST_PHONE, WEST_NAME)):
        hq.store(store)
        till = hq.counter(store)
        enrolled = till.enrol(phone, name=name)
        till.sale(member_id=enrolled["payload"]["member_id"], amount_fen=8_800)
        till.sale()
        till.push()
        ids[store] = enrolled["payload"]["member_id"]
    hq.applied()
    return ids


def admin_signed_in(hq: LiveHq, lang: str = "zh-CN") -> tuple[Browser, str]:
    """The first admin, bootstrapped from the CLI, through password and TOTP enrolment."""
    browser = Browser(hq, lang)
    browser.sign_in("boss")
    assert browser.by("#code-form").get_attribute("data-mode") == "enrol"
    secret = browser.by("#totp-secret").text
    browser.shot("02-totp-enrol")
    browser.code(secret)
    assert browser.by("#who").get_attribute("data-role") == "brand_admin"
    return browser, secret


def test_first_admin_from_the_cli_signs_in_with_totp_and_a_lockout_holds(hq: LiveHq) -> None:
    assert "boss" in posapp_hq(hq, "user", "add", "boss", "--role", "brand_admin", "--name", "总部")
    posapp_hq(hq, "user", "add", "ana", "--role", "analyst")
    posapp_hq(hq, "user", "add", "gone", "--role", "analyst")
    browser = Browser(hq)
    try:
        browser.open("/console")
        assert browser.driver.current_url.endswith("/console/login")  # not signed in: the door
        browser.shot("01-login")
        browser.quit()
        browser, secret = admin_signed_in(hq)
        browser.shot("03-overview")
        browser.submit("#logout")
        browser.sign_in("boss")  # enrolled now: a code, not a new secret
        assert browser.by("#code-form").get_attribute("data-mode") == "code"
        browser.by("#code").send_keys("000000")
        browser.submit("#submit")
        assert browser.by("#message").text == "验证码不正确，请重新输入。"
        browser.code(secret, at=time.time() + 30)  # the next step's code
        assert browser.by("#who").get_attribute("data-role") == "brand_admin"
        browser.open("/console/users")  # a person deactivated through the page
        browser.submit('tr[data-user="gone"] button[data-change="deactivate"]')
        assert browser.by('tr[data-user="gone"]').get_attribute("data-active") == "no"
        assert browser.by('tr[data-user="ana"]').get_attribute("data-active") == "yes"
        assert browser.csp_violations() == []
    finally:
        browser.quit()

    locked = Browser(hq)
    try:
        for _ in range(5):
            locked.sign_in("ana", "not the password")
        assert "已暂时锁定" in locked.by("#message").text
        locked.sign_in("ana")  # the right password, while locked
        assert "已暂时锁定" in locked.by("#message").text
        locked.open("/console")
        assert locked.driver.current_url.endswith("/console/login")
    finally:
        locked.quit()


def test_scope_masking_csrf_and_escaping_in_the_browser(hq: LiveHq) -> None:
    members = two_regions(hq)
    posapp_hq(hq, "user", "add", "boss", "--role", "brand_admin")
    posapp_hq(hq, "user", "add", "mgr", "--role", "regional_manager", "--store", "east")
    posapp_hq(hq, "user", "add", "ana", "--role", "analyst")

    manager = Browser(hq)
    try:
        manager.sign_in("mgr")
        assert manager.by("#who").get_attribute("data-role") == "regional_manager"
        for path in ("/console/stores/west", f"/console/members/{members['west']}"):
            manager.open(path)
            assert manager.by("#refused").get_attribute("data-reason") == "forbidden", path
            assert WEST_NAME not in manager.driver.page_source
        manager.open(f"/console/members/{members['east']}")
        assert manager.by("#member-phone").text.startswith(mask_phone(EAST_PHONE))
        manager.open("/console/stores/east")
        manager.by("#staff-name").send_keys(NASTY)
        manager.by("#staff-pin").send_keys("2468")
        manager.submit("#add-staff-submit")
        names = [cell.text for cell in manager.all("#staff td.name")]
        assert NASTY in names  # shown as the text it is: no tag was made of it
        assert not manager.all("#staff script")
        manager.by("#device-code").click()
        code = manager.by("#code").text
        assert len(code) == 12
        answer = requests.post(f"{hq.base}/v1/devices/register", json={"code": code, "device_name": "new till"},
                               timeout=30)  # fmt: skip
        assert answer.status_code == 200 and answer.json()["store_id"] == "east"
        # A forged form (its token replaced) changes nothing.
        manager.open("/console/stores/east")
        manager.driver.execute_script(
            "document.querySelector('#add-staff input[name=csrf]').value = 'forged'"
        )
        manager.by("#staff-name").send_keys("不该出现")
        manager.by("#staff-pin").send_keys("1357")
        manager.submit("#add-staff-submit")
        assert manager.by("#refused").get_attribute("data-reason") == "bad_form"
        manager.open("/console/stores/east")
        assert "不该出现" not in manager.driver.page_source
        assert manager.csp_violations() == []
    finally:
        manager.quit()

    analyst = Browser(hq)
    try:
        analyst.sign_in("ana")
        for path in (
            "/console/members",
            f"/console/members/{members['east']}",
            "/console/reports/capture",
        ):
            analyst.open(path)
            source = analyst.driver.page_source
            for secret in (
                EAST_PHONE[3:],
                WEST_PHONE[3:],
                mask_phone(EAST_PHONE),
                EAST_NAME,
                WEST_NAME,
            ):
                assert secret not in source, (path, secret)
        assert not analyst.all("#reveal")
    finally:
        analyst.quit()


def test_a_report_page_shows_the_numbers_of_its_api_answer(hq: LiveHq) -> None:
    two_regions(hq)
    posapp_hq(hq, "user", "add", "boss", "--role", "brand_admin")
    api = requests.get(f"{hq.base}/v1/reports/capture", params={"store_id": "east", "days": 30},
                       headers=hq.as_admin(), timeout=30).json()  # fmt: skip
    browser, _ = admin_signed_in(hq)
    try:
        browser.open("/console/reports/capture?store=east&days=30")
        rows = [[c.text for c in row.find_elements("css selector", "td")]
                for row in browser.all("#table-by_day tbody tr")]  # fmt: skip
        assert rows == [[d["day"], str(d["sales"]), str(d["known"]), str(d["capture_rate"])]
                        for d in api["by_day"]]  # fmt: skip
        assert rows and rows[0][1] == "2"
        assert browser.by("#chart").get_attribute("data-drawn") == "1"  # ECharts, served by HQ
        assert browser.csp_violations() == []
    finally:
        browser.quit()


SCREENS = [
    ("04-stores", "/console/stores"),
    ("05-store", "/console/stores/east"),
    ("06-members", "/console/members"),
    ("07-member", "/console/members/{east}"),
    ("08-report-capture", "/console/reports/capture"),
    ("09-report-rungs", "/console/reports/rungs"),
    ("10-events", "/console/events"),
    ("11-audit", "/console/audit"),
    ("12-users", "/console/users"),
    ("13-rules", "/console/rules"),
]


@pytest.mark.parametrize("lang", ["zh-CN", "en-US"])
def test_every_screen_draws_without_a_csp_violation(hq: LiveHq, lang: str) -> None:
    members = two_regions(hq)
    posapp_hq(hq, "user", "add", "boss", "--role", "brand_admin", "--name", "总部管理员")
    posapp_hq(hq, "user", "add", "mgr", "--role", "regional_manager", "--store", "east")
    door = Browser(hq, lang)
    try:
        door.open("/console/login")
        door.shot("01-login")
    finally:
        door.quit()
    browser, _ = admin_signed_in(hq, lang)
    try:
        browser.shot("03-overview")
        for name, path in SCREENS:
            browser.open(path.format(east=members["east"]))
            assert not browser.all("#refused"), path
            assert ("总部控制台" if lang.startswith("zh") else "HQ console") in browser.driver.title
            browser.shot(name)
        browser.open("/console/stores/east")
        browser.by("#device-code").click()
        browser.shot("14-device-code")
        browser.open("/console/rules")  # the ladder's preview: typed, not saved
        field = browser.by("input[name=regular_min_purchases]")
        field.clear()
        field.send_keys("1")
        browser.by("input[name=regular_requires_guide]").click()  # no guide needed either
        browser.submit("#rules-ladder-preview")
        regular = browser.all("#ladder-preview table tbody tr")[2].text.split()
        assert regular[-3:] == ["0", "2", "+2"], regular  # both members would be regulars
        browser.shot("15-rules-preview")
        assert browser.csp_violations() == []
    finally:
        browser.quit()


def _counter(data: Path, *args: str) -> str:
    done = subprocess.run([sys.executable, "-m", "posapp", "--data-dir", str(data), *args],
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr + done.stdout
    return done.stdout


def test_a_counter_registers_with_the_code_shown_and_a_rule_change_reaches_it(
    hq: LiveHq, tmp_path: Path
) -> None:
    from posapp.store.db import connect_raw

    two_regions(hq)
    posapp_hq(hq, "user", "add", "boss", "--role", "brand_admin")
    browser, _ = admin_signed_in(hq)
    till = tmp_path / "till"
    try:
        browser.open("/console/stores/east")
        browser.submit("#device-code")
        _counter(
            till,
            "register",
            "--hq",
            hq.base,
            "--code",
            browser.by("#code").text,
            "--name",
            "收银台 3",
        )
        _counter(till, "sync", "--once")
        browser.open("/console/stores/east")
        assert "收银台 3" in browser.by("#devices").text
        browser.open("/console/rules")
        box = browser.by("#rules-ladder input[name=regular_min_purchases]")
        box.clear()
        box.send_keys("5")
        browser.submit("#rules-ladder-submit")
        assert (
            browser.by("#rules-ladder input[name=regular_min_purchases]").get_attribute("value")
            == "5"
        )
    finally:
        browser.quit()
    _counter(till, "sync", "--once")
    with connect_raw(till / "posapp.db") as db:
        body = db.execute("SELECT body FROM rule_set WHERE kind = 'ladder'").fetchone()
    assert body is not None and json.loads(body[0])["regular_min_purchases"] == 5


def test_an_erasure_reaches_two_counters_and_the_console_shows_both_acknowledgements(
    hq: LiveHq,
) -> None:
    hq.store("east")
    hq.store("west")
    tills = {store: hq.counter(store) for store in ("east", "west")}
    first = tills["east"].enrol(EAST_PHONE, name=EAST_NAME)
    tills["east"].push()
    tills["west"].enrol(EAST_PHONE, name=EAST_NAME)  # the same customer at the other store
    tills["west"].push()
    hq.applied()
    for till in tills.values():
        till.pull()
    member_id = hq.rows(
        "SELECT member_id FROM member_alias WHERE local_id = :i", i=first["payload"]["member_id"]
    )[0][0]
    code = hq.rows("SELECT member_code FROM member WHERE id = :i", i=member_id)[0][0]
    posapp_hq(hq, "user", "add", "dpo", "--role", "privacy_officer")
    browser = Browser(hq)
    try:
        browser.sign_in("dpo")
        browser.open(f"/console/members/{member_id}")
        browser.by("#erase-confirm").send_keys(code)
        browser.submit("#erase-submit")
        rows = browser.all("#erasure tbody tr")
        assert [r.text.split()[0] for r in rows] == ["east", "west"]
        assert all("等待门店确认" in r.text for r in rows)
        assert EAST_NAME not in browser.driver.page_source
        for n, till in enumerate(tills.values()):
            assert any(c["kind"] == "member.erased" for c in till.pull())
            till.event("erasure.applied", {"member_id": member_id})
            till.push()
            hq.applied()
            browser.open(f"/console/members/{member_id}")
            waiting = [r for r in browser.all("#erasure tbody tr") if "等待门店确认" in r.text]
            assert len(waiting) == 1 - n  # each acknowledgement shows as it arrives
        assert browser.csp_violations() == []
    finally:
        browser.quit()


def test_a_third_guide_change_in_90_days_is_refused_in_the_browser(hq: LiveHq) -> None:
    members = two_regions(hq)
    hq.store("east-2", staff=3)
    posapp_hq(hq, "user", "add", "boss", "--role", "brand_admin")
    browser, _ = admin_signed_in(hq)
    try:
        for guide in ("east-guide-0", "east-2-guide-0", "east-2-guide-1", "east-2-guide-2"):
            browser.open(f"/console/members/{members['east']}")
            browser.by("#guide-id").send_keys(guide)
            browser.submit("#guide-submit")
        assert "twice in the last 90 days" in browser.by("#message").text
        assert browser.by("#transfers").get_attribute("data-transfers") == "2"
        assert "east-2-guide-2" not in browser.by("dl.facts").text
    finally:
        browser.quit()
