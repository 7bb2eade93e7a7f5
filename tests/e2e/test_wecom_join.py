"""WeCom end to end: a real HQ process, the fake WeCom over real HTTP, a real counter.

The customer opens the guide's invite (``/g/<token>``), joins with the guide-contact
consent and gets the guide's WeCom contact QR; pressing "Add" in the fake WeCom sends
the encrypted callback to HQ, and after ``posapp sync --once`` the counter knows the
member is the guide's WeCom contact. Without the consent, or with WeCom refusing, the
page is as it was before WeCom. The browser test does the same in chromium (the QR image
must load under the page's CSP) and keeps screenshots when $POSAPP_SCREENSHOT_DIR is set.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests
from browser_harness import chromium, post_form
from join_world import GUIDE, JoinWorld, Visitor, join_world
from sync_world import now
from sysdeps import browser_problem, require

from posapp.domain.follow_up import Kind
from posapp.domain.ladder import Channel
from posapp.hq import admin
from posapp.hq.wecom.fake import FakeWeCom
from posapp.services.follow_ups import my_customers
from posapp.store.db import connect_raw
from posapp.store.local_days import store_today
from posapp.store.migrate import open_database

PHONE, E164 = "13812345678", "+8613812345678"
OTHER_PHONE, OTHER_E164 = "13912345678", "+8613912345678"


@pytest.fixture
def fake() -> Iterator[FakeWeCom]:
    with FakeWeCom() as running:
        yield running


@pytest.fixture
def world(tmp_path: Path, fake: FakeWeCom) -> Iterator[JoinWorld]:
    env = fake.settings_env() | {"POSAPP_HQ_WECOM_WELCOME_TEXT": "欢迎光临，我是您的专属导购"}
    with join_world(tmp_path, **env) as started:
        fake.callback_url = f"{started.base}/wecom/callback"
        with started.hq_db.write() as session:
            key = admin.add_credential(session, kind="admin", name="t", now=now())
        answer = requests.put(f"{started.base}/v1/staff/{GUIDE}/wecom", json={"userid": "wangfang"},
                              headers={"Authorization": f"Bearer {key}"}, timeout=30)  # fmt: skip
        assert answer.status_code == 200, answer.text
        yield started


def _eventually(check: Callable[[], object], seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "not within the time"
        time.sleep(0.1)


def _join(world: JoinWorld, token: str, phone: str, e164: str, consents: tuple[str, ...]) -> str:
    visitor = Visitor(f"{world.base}/g/{token}")
    assert visitor.open().status_code == 200
    visitor.post("send", phone, consents=consents)
    code = world.code_for(e164)
    assert code is not None
    page = visitor.post("join", phone, code=code, consents=consents)
    assert page.status_code == 200 and 'id="welcome"' in page.text, page.text[-800:]
    return page


def _posapp(data: Path, *args: str) -> str:
    done = subprocess.run([sys.executable, "-m", "posapp", "--data-dir", str(data), *args],
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr + done.stdout
    return done.stdout


def _counter(world: JoinWorld, till: Path) -> None:
    with world.hq_db.write() as session:
        code = admin.device_code(session, store_id="a", now=now(), minutes=10)
    _posapp(till, "register", "--hq", world.base, "--code", code, "--name", "till-1")


def _contact_at_counter(till: Path, e164: str) -> tuple[str | None, str | None]:
    with connect_raw(till / "posapp.db") as db:
        row = db.execute(
            "SELECT wecom_guide_id, wecom_since FROM member WHERE phone_e164 = ?", (e164,)
        ).fetchone()
    assert row is not None, "the member did not reach the counter"
    return row[0], row[1]


def test_the_guide_invite_shows_the_contact_qr_and_the_add_reaches_the_counter(
    world: JoinWorld, fake: FakeWeCom, tmp_path: Path
) -> None:
    till = tmp_path / "till"
    _counter(world, till)
    token = world.token(serial=3, channel=Channel.GUIDE_CONTACT)
    page = _join(world, token, PHONE, E164, ("membership", "guide_contact"))
    found = re.search(r'<img class="qr" id="wecom-qr" src="([^"]+)"', page.text)
    assert found is not None, "no WeCom contact QR on the welcome page"
    qr = found.group(1)
    assert qr.startswith(fake.base_url + "/qr/")
    assert fake.base_url in page.headers["Content-Security-Policy"]  # the image may load
    [way] = [w for w in fake.ways.values() if w["state"] == token]  # beside the guide's card
    assert (way["state"], way["user"], way["type"], way["scene"]) == (token, ["wangfang"], 1, 2)

    _posapp(till, "sync", "--once")
    assert _contact_at_counter(till, E164) == (None, None)  # not a WeCom contact yet
    with connect_raw(till / "posapp.db") as db:  # the guide's WeCom account set at HQ
        [(on_wecom,)] = db.execute("SELECT wecom_connected FROM staff WHERE id = ?", (GUIDE,))
    assert on_wecom == 1

    scan = qr.replace("/qr/", "/scan/").removesuffix(".svg")
    assert "wangfang" in requests.get(scan, timeout=10).text
    assert requests.post(scan, timeout=30).status_code == 200  # the customer presses "Add"
    # Welcomed, and the invite's contact way deleted (WeCom caps them): the card's stays.
    _eventually(lambda: fake.welcomes and all(w["state"] != token for w in fake.ways.values()))
    assert fake.welcomes[0]["text"]["content"] == "欢迎光临，我是您的专属导购"

    def at_counter() -> bool:
        _posapp(till, "sync", "--once")
        return _contact_at_counter(till, E164)[1] is not None

    _eventually(at_counter, 60.0)
    assert _contact_at_counter(till, E164)[0] == GUIDE

    # The customer removes the guide in WeCom: at the counter the guide's win-back is due.
    [external_userid] = list(fake.customers)
    fake.advance(60)
    removal = fake.customer_removes("wangfang", external_userid)
    answer = requests.post(f"{world.base}/wecom/callback", params=removal.query,
                           data=removal.body, timeout=30)  # fmt: skip
    assert answer.status_code == 200 and answer.text == "success"

    def removed_at_counter() -> bool:
        _posapp(till, "sync", "--once")
        with connect_raw(till / "posapp.db") as db:
            row = db.execute(
                "SELECT wecom_since, wecom_removed_at FROM member WHERE phone_e164 = ?", (E164,)
            ).fetchone()
        return row[0] is None and row[1] is not None

    _eventually(removed_at_counter, 60.0)
    with connect_raw(till / "posapp.db") as raw:
        [(member_id,)] = raw.execute("SELECT id FROM member WHERE phone_e164 = ?", (E164,))
    db = open_database(till / "posapp.db")
    try:
        with db.lookup() as lookup:
            rows = my_customers(lookup, GUIDE, store_today(lookup))
        [row] = [r for r in rows if r.member_id == member_id]
    finally:
        db.close()
    assert row.wecom is None
    assert [t.kind for t in row.due] == [Kind.WIN_BACK]  # due today, although they just joined


def test_without_the_guide_contact_consent_or_with_wecom_refusing_the_page_is_as_before(
    world: JoinWorld, fake: FakeWeCom
) -> None:
    page = _join(world, world.token(serial=4, channel=Channel.GUIDE_CONTACT), PHONE, E164,
                 ("membership",))  # fmt: skip
    assert "wecom-qr" not in page.text
    assert [w["state"] for w in fake.ways.values()] == ["G1"]  # the guide's card alone
    fake.fail(40098, times=10)  # the guide is not verified for customer contact
    page = _join(world, world.token(serial=5, channel=Channel.GUIDE_CONTACT), OTHER_PHONE,
                 OTHER_E164, ("membership", "guide_contact"))  # fmt: skip
    assert "wecom-qr" not in page.text and "svg" in page.text  # the member code QR as before
    assert requests.get(f"{world.base}/healthz", timeout=10).status_code == 200


def _shot(driver, name: str) -> None:
    folder = os.environ.get("POSAPP_SCREENSHOT_DIR")
    if folder:
        path = Path(folder) / "wecom"
        path.mkdir(parents=True, exist_ok=True)
        height = driver.execute_script("return document.body.scrollHeight")
        driver.set_window_size(412, max(700, min(int(height) + 40, 2400)))
        driver.save_screenshot(str(path / name))


@pytest.mark.parametrize("lang", ["zh-CN", "en-US"])
def test_the_contact_qr_loads_in_a_real_browser_and_add_connects_the_member(
    world: JoinWorld, fake: FakeWeCom, lang: str
) -> None:
    require(browser_problem())
    from selenium.webdriver.common.by import By

    short = lang[:2]
    driver = chromium(lang)
    try:
        driver.get(f"{world.base}/g/{world.token(serial=6, channel=Channel.GUIDE_CONTACT)}")
        driver.find_element(By.ID, "consent-membership").click()
        driver.find_element(By.ID, "consent-guide_contact").click()
        driver.find_element(By.ID, "phone").send_keys(PHONE)
        post_form(driver, "send")
        code = world.code_for(E164)
        assert code is not None
        driver.find_element(By.ID, "code").send_keys(code)
        post_form(driver, "submit")
        image = driver.find_element(By.ID, "wecom-qr")
        _eventually(lambda: driver.execute_script("return arguments[0].complete", image), 10)
        assert driver.execute_script("return arguments[0].naturalWidth", image) > 0  # CSP let it in
        title = driver.find_element(By.CSS_SELECTOR, "#wecom-contact h2").text
        assert title == ("添加您的专属导购为企业微信好友" if short == "zh" else
                         "Add your personal guide on WeCom")  # fmt: skip
        _shot(driver, f"{short}-1-contact-qr.png")
        driver.get(image.get_attribute("src").replace("/qr/", "/scan/").removesuffix(".svg"))
        post_form(driver, "add")  # the customer adds the guide in (the fake) WeCom
        _shot(driver, f"{short}-2-added.png")
    finally:
        driver.quit()
    _eventually(lambda: world.scalar(
        "SELECT count(*) FROM wecom_link WHERE member_id IS NOT NULL AND ended_at IS NULL") == 1)  # fmt: skip
