"""The customer display shows a customer only what they may see, then returns to idle."""

from __future__ import annotations

from pytestqt.qtbot import QtBot

from posapp.domain.ladder import Channel
from posapp.ui.customer_display import CustomerDisplay


def test_a_member_sees_a_masked_name_and_the_invite_then_the_idle_screen(qtbot: QtBot) -> None:
    display = CustomerDisplay("静安店", idle_after_ms=200)
    qtbot.addWidget(display)
    display.place()
    assert "静安店" in display.welcome.text() and display.qr.pixmap().isNull()

    display.show_member("欧阳娜娜", "super_member")
    display.show_invite("https://m.example.cn/a/0cv946CBj6QA42p9YIQgQUoodwr2dR", Channel.APP)
    shown = " ".join(display.visible_text())
    assert "欧***" in shown and "娜娜" not in shown
    assert not display.qr.pixmap().isNull() and display.call.text()

    qtbot.waitUntil(lambda: display.qr.pixmap().isNull(), timeout=3000)
    assert "静安店" in display.welcome.text() and display.greeting.text() == ""


def test_a_member_without_a_name_is_greeted_without_one(qtbot: QtBot) -> None:
    display = CustomerDisplay("静安店")
    qtbot.addWidget(display)
    display.show_member(None, "member")
    assert display.greeting.text().strip() and "None" not in display.greeting.text()
