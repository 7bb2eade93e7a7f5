"""Redeeming an invite: what the mini-program backend (or HQ's own join page) sends and gets."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from posapp.protocol.events import ConsentChoice


class RedeemRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    token: str = Field(min_length=1, max_length=64)
    phone: str = Field(min_length=1, max_length=32)
    consents: list[ConsentChoice] = Field(min_length=1, max_length=3)
    name: str | None = Field(default=None, max_length=256)
    wechat_openid: str | None = Field(default=None, max_length=64)
    wechat_unionid: str | None = Field(default=None, max_length=64)


class RedeemResponse(BaseModel):
    model_config = ConfigDict(extra="forbid")
    member_id: str
    member_code: str
    created: bool
    store_id: str
    guide_id: str | None
    referred_by: str | None
    channel: str
