"""Callback crypto: WeCom's documented sample, and vectors made with the SDK both ways."""

from __future__ import annotations

import pytest
from pydantic import ValidationError
from sqlalchemy import select
from wecom_harness import Wired

from posapp.hq.wecom.callbacks import verify_url
from posapp.hq.wecom.config import WeComSettings
from posapp.hq.wecom.errors import BadSignature
from posapp.hq.wecom.fake import FakeWeCom
from posapp.hq.wecom.models import WeComInbox

# WeCom's own sample (WXBizMsgCrypt, callback/Sample.py of its Python SDK).
SAMPLE = WeComSettings(
    corp_id="ww1436e0e65a779aee",
    secret="unused",
    callback_token="hJqcu3uJ9Tn2gXPmxx2w9kkCkCE2EPYo",
    encoding_aes_key="6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhUt",
)
SAMPLE_ECHO = (
    "fsi1xnbH4yQh0+PJxcOdhhK6TDXkjMyhEPA7xB2TGz6b+g7xyAbEkRxN/3cNXW9qdqjnoVzEtpbhnFyq6SVHyA=="
)
SAMPLE_BODY = (
    "<xml><ToUserName><![CDATA[ww1436e0e65a779aee]]></ToUserName>\n<Encrypt><![CDATA["
    "Kl7kjoSf6DMD1zh7rtrHjFaDapSCkaOnwu3bqLc5tAybhhMl9pFeK8NslNPVdMwmBQTNoW4mY7AIjeLvEl3NyeTkAgGz"
    "BhzTtRLNshw2AEew+kkYcD+Fq72Kt00fT0WnN87hGrW8SqGc+NcT3mu87Ha3dz1pSDi6GaUA6A0sqfde0VJPQbZ9U+3J"
    "WcoD4Z5jaU0y9GSh010wsHF8KZD24YhmZH4ch4Ka7ilEbjbfvhKkNL65HHL0J6EYJIZUC2pFrdkJ7MhmEbU2qARR4iQH"
    "E7wy24qy0cRX3Mfp6iELcDNfSsPGjUQVDGxQDCWjayJOpcwocugux082f49HKYg84EpHSGXAyh+/oxwaWbvL6aSDPOYu"
    "PDGOCI8jmnKiypE+]]></Encrypt>\n<AgentID><![CDATA[1000002]]></AgentID>\n</xml>"
)
SAMPLE_QUERY = {
    "msg_signature": "0c3914025cb4b4d68103f6bfc8db550f79dcf48e",
    "timestamp": "1476422779",
    "nonce": "1597212914",
}


def test_wecoms_documented_url_verification_sample() -> None:
    plain = verify_url(
        SAMPLE, "012bc692d0a58dd4b10f8dfe5c4ac00ae211ebeb", "1476416373", "47744683", SAMPLE_ECHO
    )
    assert plain == "1288432023552776189"  # answered as it is: no quotes, no newline


def test_wecoms_documented_message_sample_is_accepted_and_stored(wired: Wired) -> None:
    with wired.db.transaction() as session:
        from posapp.hq.wecom.callbacks import accept_callback

        assert accept_callback(session, SAMPLE, SAMPLE_QUERY, SAMPLE_BODY.encode())
    with wired.db.read() as session:
        row = session.scalars(select(WeComInbox)).one()
    assert row.userid == "" and row.create_time == 1476422779 and "你好" in row.body


@pytest.mark.parametrize("part", ["msg_signature", "timestamp", "nonce"])
def test_a_forged_or_altered_verification_is_refused(
    fake: FakeWeCom, settings: WeComSettings, part: str
) -> None:
    query = fake.verification("42")
    assert (
        verify_url(
            settings, query["msg_signature"], query["timestamp"], query["nonce"], query["echostr"]
        )
        == "42"
    )
    query[part] = "1" + query[part][1:] if query[part][0] != "1" else "2" + query[part][1:]
    with pytest.raises(BadSignature):
        verify_url(
            settings, query["msg_signature"], query["timestamp"], query["nonce"], query["echostr"]
        )


def test_the_sample_signed_for_another_corp_is_refused(settings: WeComSettings) -> None:
    with pytest.raises(BadSignature):
        verify_url(
            settings,
            "012bc692d0a58dd4b10f8dfe5c4ac00ae211ebeb",
            "1476416373",
            "47744683",
            SAMPLE_ECHO,
        )


def test_a_forged_callback_is_refused_and_nothing_is_stored(wired: Wired, fake: FakeWeCom) -> None:
    sent = fake.callback(
        {"ChangeType": "add_external_contact", "UserID": "u", "ExternalUserID": "e"}
    )
    sent.query["msg_signature"] = "0" * 40
    with pytest.raises(BadSignature):
        wired.deliver(sent)
    other = FakeWeCom(corp_id=fake.corp_id, callback_token=fake.callback_token)  # another key
    with pytest.raises(BadSignature):
        wired.deliver(other.callback({"ChangeType": "add_external_contact"}))
    with pytest.raises(BadSignature):
        wired.deliver(type(sent)(sent.query, b"<xml><not-closed>"))
    with wired.db.read() as session:
        assert session.scalars(select(WeComInbox)).all() == []


def test_an_encoding_aes_key_that_is_not_43_base64_characters_is_refused_at_start() -> None:
    with pytest.raises(ValidationError):
        WeComSettings(encoding_aes_key="short")
    assert "hJqcu" not in repr(SAMPLE) and "6qkdM" not in str(SAMPLE.model_dump())
