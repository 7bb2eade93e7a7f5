"""One router per resource; a new route is one function in one of these files."""

from __future__ import annotations

from fastapi import APIRouter

from posapp.hq.api.routes import (
    console_auth,
    console_members,
    console_pages,
    console_stores,
    console_users,
    devices,
    invites,
    join,
    lookup,
    members,
    meta,
    reports,
    sync,
    wecom,
)

ROUTERS: tuple[APIRouter, ...] = tuple(
    module.router
    for module in (
        meta,
        devices,
        sync,
        invites,
        members,
        reports,
        join,
        lookup,
        console_auth,
        console_members,
        console_pages,
        console_stores,
        console_users,
        wecom,
    )
)
