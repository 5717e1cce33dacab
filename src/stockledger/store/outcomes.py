"""Writing delivery outcomes: each attempt of a claimed group, with the renewal of the lease of the
group's deliveries still to send (the lease value is the holder's token), or their release."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import BigInteger, Integer, String, and_, bindparam, case, null, or_, update
from sqlalchemy.ext.asyncio import AsyncConnection

from stockledger.store.deliveries import PENDING, Claimed
from stockledger.store.tables import deliveries


@dataclass(frozen=True)
class Attempt:
    """The outcome of one attempt, as `record_outcomes` writes it."""

    claimed: Claimed
    state: str
    failures: int
    status_label: str
    attempt_ms: int
    next_attempt_ms: int | None


_THIS = deliveries.c.id == bindparam("d_id")
_FRESH = and_(_THIS, deliveries.c.state == PENDING)
# Built once (a statement per write must cost little): the attempted row by its key, and the rest
# of the group as the range of its subscription's pending rows still held with the group's lease
# value (the index on subscription, state and outbox order finds exactly them).
_RECORD_OUTCOME = (
    update(deliveries)
    .where(
        or_(
            _THIS,
            and_(
                deliveries.c.org_uuid == bindparam("d_org"),
                deliveries.c.subscription_uuid == bindparam("d_sub"),
                deliveries.c.state == PENDING,
                deliveries.c.outbox_id > bindparam("d_after", type_=BigInteger),
                deliveries.c.outbox_id <= bindparam("d_through", type_=BigInteger),
                deliveries.c.lease_until_ms == bindparam("d_held", type_=BigInteger),
            ),
        )
    )
    .values(
        attempts=case((_THIS, deliveries.c.attempts + 1), else_=deliveries.c.attempts),
        last_status=case((_THIS, bindparam("d_status", type_=String)), else_=deliveries.c.last_status),
        last_attempt_ms=case(
            (_THIS, bindparam("d_at", type_=BigInteger)), else_=deliveries.c.last_attempt_ms
        ),
        state=case((_FRESH, bindparam("d_state", type_=String)), else_=deliveries.c.state),
        failures=case((_FRESH, bindparam("d_failures", type_=Integer)), else_=deliveries.c.failures),
        next_attempt_ms=case(
            (_FRESH, bindparam("d_next", type_=BigInteger)), else_=deliveries.c.next_attempt_ms
        ),
        # The attempted row's lease is freed only if it is still the group's.
        lease_until_ms=case(
            (
                deliveries.c.lease_until_ms != bindparam("d_held", type_=BigInteger),
                deliveries.c.lease_until_ms,
            ),
            (_THIS, null()),
            else_=bindparam("d_renew", type_=BigInteger),
        ),
    )
)


async def record_outcomes(
    conn: AsyncConnection,
    attempts: Sequence[Attempt],
    through_outbox_id: int,
    held_until_ms: int,
    renew_until_ms: int | None,
) -> int:
    """Write the outcomes of consecutive attempts of one claimed group and free their leases, and
    move the lease of the group's deliveries still to send (those after the last attempt, up to
    `through_outbox_id`) from `held_until_ms` to `renew_until_ms` (None gives them back, claimable at
    once): one statement for one attempt. Only rows still held with `held_until_ms` are renewed: a
    row taken over by another dispatcher or cancelled meanwhile (its subscription was deleted) is
    not, and the return value, how many were renewed, tells the caller to stop. A delivery cancelled
    meanwhile keeps its state; only the attempt is logged."""
    *earlier, last = attempts
    if earlier:  # several outcomes came in while the previous write was under way
        await conn.execute(
            _RECORD_OUTCOME,
            [_outcome_parameters(a, a.claimed.outbox_id, held_until_ms, None) for a in earlier],
        )
    result = await conn.execute(
        _RECORD_OUTCOME, _outcome_parameters(last, through_outbox_id, held_until_ms, renew_until_ms)
    )
    return int(result.rowcount) - 1  # the attempted row always matches


def _outcome_parameters(
    attempt: Attempt, through_outbox_id: int, held_until_ms: int, renew_until_ms: int | None
) -> dict[str, Any]:
    claimed = attempt.claimed
    return {
        "d_id": claimed.delivery_id,
        "d_org": claimed.message.org_uuid,
        "d_sub": claimed.subscription_uuid,
        "d_after": claimed.outbox_id,
        "d_through": through_outbox_id,
        "d_held": held_until_ms,
        "d_renew": renew_until_ms,
        "d_status": attempt.status_label,
        "d_at": attempt.attempt_ms,
        "d_state": attempt.state,
        "d_failures": attempt.failures,
        "d_next": attempt.next_attempt_ms,
    }


async def release(conn: AsyncConnection, delivery_ids: Sequence[int], held_until_ms: int) -> None:
    """Give leased deliveries back unattempted (claimable again at once, in order), those still held
    with `held_until_ms` only."""
    if delivery_ids:
        await conn.execute(
            update(deliveries)
            .where(deliveries.c.id.in_(delivery_ids), deliveries.c.lease_until_ms == held_until_ms)
            .values(lease_until_ms=None)
        )
