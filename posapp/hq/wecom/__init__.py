"""HQ's WeCom (企业微信) adapter: customer contact for shopping guides.

What HQ wires, each as one thin route or job (``db`` is the ``HqDatabase``; ``sessions``
below is ``db.transaction``; WeCom is never called inside a transaction, so a slow
WeCom never holds HQ's writer):

- start: ``settings = WeComSettings()``; if ``settings.enabled``:
  ``gateway = SdkGateway(settings, db.transaction)``.
- ``GET  /wecom/callback``: ``verify_url(settings, msg_signature, timestamp, nonce,
  echostr)`` → the plain-text answer; ``BadSignature`` → 403.
- ``POST /wecom/callback``: in ``db.transaction()``: ``accept_callback(session, settings,
  request.query_params, await request.body())``; answer ``"success"`` (also for a
  duplicate); ``BadSignature`` → 403. Then, behind the answer (a background task and a
  periodic job): ``process_callbacks(db.transaction, gateway, settings,
  on_link_ended=...)``.
- The guide-contact page (``/g/<token>``), once consent is given: ``contact_way_for_invite(
  db.transaction, gateway, token, guide_userid(session, staff_id), staff_id=...,
  store_id=..., expires_at=...)`` → ``ContactQr`` (``qr_code`` or ``None`` and a ``rule``:
  the page then shows what it showed before WeCom).
- After a redemption: ``attach_member(session, token, member_id)`` (``process_callbacks``
  catches up on any it missed).
- Erasure: ``erase_member(session, member_id, now)`` in the erasing transaction.
- Admin: ``set_guide_userid(db.transaction, gateway, staff_id, userid)``,
  ``guide_departed(session, staff_id)``.
- Reassignment: ``transfer_customers(db.transaction, gateway, moves_for_members(session,
  [(member_id, to_staff_id), ...]))``; hourly: ``poll_transfers(db.transaction, gateway)``
  and ``sweep_contact_ways(db.transaction, gateway)``; daily, in ``db.transaction()``:
  ``forget_processed(session, now - timedelta(days=30))``.
- The card / My customers: ``contact_of(session, member_id)``.
"""

from posapp.hq.wecom.callbacks import (
    accept_callback,
    forget_processed,
    process_callbacks,
    verify_url,
)
from posapp.hq.wecom.config import WeComSettings
from posapp.hq.wecom.contact_ways import (
    ContactQr,
    contact_way_for_invite,
    ensure_guide_way,
    guide_departed,
    guide_userid,
    release_contact_way,
    set_guide_userid,
    sweep_contact_ways,
)
from posapp.hq.wecom.errors import BadSignature, WeComError, WeComRefused, WeComUnavailable
from posapp.hq.wecom.gateway import SdkGateway, WeComGateway
from posapp.hq.wecom.links import EndedLink, attach_member, contact_of, erase_member
from posapp.hq.wecom.transfers import (
    Move,
    Outcome,
    moves_for_members,
    poll_transfers,
    transfer_customers,
)

__all__ = [
    "BadSignature",
    "ContactQr",
    "EndedLink",
    "Move",
    "Outcome",
    "SdkGateway",
    "WeComError",
    "WeComGateway",
    "WeComRefused",
    "WeComSettings",
    "WeComUnavailable",
    "accept_callback",
    "attach_member",
    "contact_of",
    "contact_way_for_invite",
    "ensure_guide_way",
    "erase_member",
    "forget_processed",
    "guide_departed",
    "guide_userid",
    "moves_for_members",
    "poll_transfers",
    "process_callbacks",
    "release_contact_way",
    "set_guide_userid",
    "sweep_contact_ways",
    "transfer_customers",
    "verify_url",
]
