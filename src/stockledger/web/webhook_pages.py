"""Webhooks: the organization's subscriptions with their status, their last deliveries, redelivery."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response

from stockledger.domain.accounts import Permission
from stockledger.domain.subscriptions import Subscription
from stockledger.plumbing import app_state, path_uuid
from stockledger.service import subscriptions
from stockledger.web import session
from stockledger.web.render import page
from stockledger.web.routing import PageRoute

router = APIRouter(route_class=PageRoute, include_in_schema=False)

LAST_DELIVERIES = 10


@dataclass(frozen=True)
class SubscriptionView:
    subscription: Subscription
    deliveries: list[subscriptions.LogEntry]


@router.get("/ui/webhooks")
async def webhooks(request: Request) -> Response:
    user = await session.current_user(request)
    session.require(user, Permission.WEBHOOKS)
    db = app_state(request).db
    views = [
        SubscriptionView(sub, await subscriptions.delivery_log(db, user.actor, sub.uuid, LAST_DELIVERIES))
        for sub in await subscriptions.list_all(db, user.actor)
    ]
    redelivered = request.query_params.get("redelivered", "")
    return page(
        request,
        "webhooks.html",
        {
            "user": user,
            "active": "webhooks",
            "title": "Webhooks",
            "views": views,
            "redelivered": redelivered[:36],
            "last": LAST_DELIVERIES,
        },
    )


@router.post("/ui/webhooks/{sub}/redeliver")
async def redeliver(request: Request, sub: str) -> Response:
    """Queue one logged message again (the dispatcher sends it with its original body and signature)."""
    user = await session.current_user(request)
    form = await request.form()
    session.check_csrf(user.csrf_token, form.get(session.CSRF_FIELD))
    session.require(user, Permission.WEBHOOKS)
    sub_uuid = path_uuid(sub, "subscription")
    message = path_uuid(str(form.get("message", "")), "message")
    await subscriptions.redeliver(app_state(request).db, user.actor, sub_uuid, message)
    return RedirectResponse(f"/ui/webhooks?redelivered={message}#sub-{sub_uuid}", status_code=303)
