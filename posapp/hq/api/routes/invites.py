"""The mini-program's backend redeems an invite a customer scanned in WeChat."""

from __future__ import annotations

from fastapi import APIRouter

from posapp.hq.api.deps import Applied, DatabaseDep, MasterKey, PartnerActor, write
from posapp.hq.redeem import redeem
from posapp.protocol.invites import RedeemRequest, RedeemResponse
from posapp.timefmt import utcnow

router = APIRouter(prefix="/v1/invites", tags=["invites"])


@router.post("/redeem", operation_id="redeemInvite")
def redeem_invite(
    body: RedeemRequest,
    who: PartnerActor,
    _: Applied,
    database: DatabaseDep,
    master_key: MasterKey,
) -> RedeemResponse:
    return write(
        database,
        lambda session: redeem(session, body, master_key=master_key, now=utcnow(), who=who),
    )
