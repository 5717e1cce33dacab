"""Posting movements to the ledger: the one place balances change (PUT, bulk, counts, purchases).

The caller's transaction holds the organization lock and has read the organization's state
(`store.write_path.prelude`). `post` then reads the few balances the rules must see before deciding
(`domain.ledger.needs`), lets `domain.ledger.settle` decide and number the requests, claims the
Idempotency-Keys of the accepted ones, adds the summed deltas in one upsert that returns the new
balances, derives each request's before and after from them (`Settlement.balances`), and appends the
ledger rows and the outbox events in one statement. A failure anywhere rolls all of it back.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence, Set
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncConnection

from stockledger.domain import event_payloads, ledger
from stockledger.domain.changes import BalanceKey, Source
from stockledger.domain.errors import ServiceError
from stockledger.domain.locations import LocationType
from stockledger.metrics import MOVEMENTS
from stockledger.service import idempotency, low_stock
from stockledger.service.context import Actor
from stockledger.store import balances, orgs, outbox, write_path
from stockledger.store.unit_of_work import UnitOfWork, WriteClaim

Outcome = ledger.Posted | ServiceError


class PostAlone(Exception):
    """Several requests cannot be posted together (together they would add more to a balance than one
    write may, or one of them took a balance out of range once written): the caller rolls back and
    posts each one in a transaction of its own, so only the culprit is refused."""


@dataclass(frozen=True)
class Posting:
    """One request to post, with who asks and what its ledger rows and events name."""

    actor: Actor
    request: ledger.Request
    external_uuid: str | None = None
    claim: WriteClaim | None = None  # its Idempotency-Key, claimed in this transaction if accepted
    refusal: ServiceError | None = None  # refused by the caller already (e.g. its answer's location)


async def post(
    uow: UnitOfWork,
    org: str,
    postings: Sequence[Posting],
    prelude: write_path.Prelude,
    *,
    source: Source,
    at_ms: int,
    default_low_stock_units: int,
    last_seq: int | None = None,
    tracked: Set[str] | None = None,
    known: Mapping[BalanceKey, int] | None = None,
) -> list[Outcome]:
    """Post the requests in arrival order, each as if it ran alone right after the ones before it, in
    the unit of work's transaction (the accepted requests' claims count as claimed once it commits).

    `last_seq`: the caller reserved one sequence number per change (`write_path.lock_allocating`);
    otherwise they are reserved here. `tracked`: the products that may move, when the caller leaves
    that check to the rules. `known`: balances the caller already read under the lock (rows that
    exist). A refused request is answered with its error and leaves no trace; the refusal of a lone
    request is raised, so that its transaction rolls back. `default_low_stock_units`: the level of an
    alert without one of its own.
    """
    conn = uow.conn
    total = sum(len(p.request.changes) for p in postings)
    if last_seq is None:
        last_seq = await orgs.allocate_seq(conn, org, total) if total else 0
    first_seq = last_seq - total + 1
    rules = ledger.Rules(
        locations={loc.uuid for loc in prelude.locations},
        stores={loc.uuid for loc in prelude.locations if loc.type == LocationType.STORE},
        tracked=tracked,
        negative_stock_allowed=prelude.allow_negative_stock or source in ledger.ALWAYS_RECORDED,
        source=source,
    )
    before = dict(known or {})
    missing = ledger.needs([p.request for p in postings if p.refusal is None], rules) - before.keys()
    if missing:
        before.update(await balances.current_units(conn, org, missing))
    refused = {i: p.refusal for i, p in enumerate(postings) if p.refusal is not None}
    live, settlement, claimed = await _settle_claiming(conn, postings, refused, before, rules, first_seq)
    decided = {**dict(zip(live, settlement.verdicts, strict=True)), **refused}
    if len(postings) == 1 and isinstance(decided[0], ServiceError):
        raise decided[0]
    if settlement.oversized:
        raise PostAlone
    if settlement.used < total:
        await orgs.give_back_seq(conn, org, first_seq + settlement.used - 1)

    after = await balances.apply_deltas(conn, org, settlement.deltas, settlement.seq_by_key, at_ms)
    written = settlement.balances(after)
    for verdict, result in zip(settlement.verdicts, written, strict=True):
        if isinstance(verdict, ledger.Accepted) and isinstance(result, ServiceError):  # out of range
            if len(postings) == 1:
                raise result
            raise PostAlone
    outcomes: dict[int, Outcome] = {**dict(zip(live, written, strict=True)), **refused}
    results = [outcomes[i] for i in range(len(postings))]
    await _append(uow, org, postings, results, prelude, rules.stores, source, at_ms, default_low_stock_units)

    claims = [claim for i in claimed if (claim := postings[i].claim) is not None]

    def committed() -> None:
        MOVEMENTS.labels(source.value).inc(settlement.used)
        for claim in claims:
            claim.claimed = True

    uow.after_commit(committed)
    return results


async def _settle_claiming(
    conn: AsyncConnection,
    postings: Sequence[Posting],
    refused: dict[int, ServiceError],
    before: Mapping[BalanceKey, int],
    rules: ledger.Rules,
    first_seq: int,
) -> tuple[list[int], ledger.Settlement, set[int]]:
    """`settle` the requests not refused yet, then claim the Idempotency-Keys of the accepted ones in
    arrival order. A key already held refuses its request (added to `refused`), and the requests
    after it are decided again without it: those before it keep their decisions and their claims."""
    claimed: set[int] = set()
    while True:
        live = [i for i in range(len(postings)) if i not in refused]
        settlement = ledger.settle([postings[i].request for i in live], before, rules, first_seq)
        for i, verdict in zip(live, settlement.verdicts, strict=True):
            claim = postings[i].claim
            if isinstance(verdict, ServiceError) or claim is None or claim.claimed or i in claimed:
                continue
            if not await claim.claim_locked(conn):
                refused[i] = idempotency.key_taken()
                break
            claimed.add(i)
        else:
            return live, settlement, claimed


async def _append(
    uow: UnitOfWork,
    org: str,
    postings: Sequence[Posting],
    results: Sequence[Outcome],
    prelude: write_path.Prelude,
    stores: Set[str],
    source: Source,
    at_ms: int,
    default_low_stock_units: int,
) -> None:
    """The ledger rows and the events of the accepted requests in arrival order, in one statement:
    per request its InventoryBalanceChanged, then its InventoryLowStock crossings (the alert levels of
    all of them in one read, only when the organization has any alert configured)."""
    accepted = [(p, r) for p, r in zip(postings, results, strict=True) if isinstance(r, ledger.Posted)]
    alerted = (
        await low_stock.alerts_for(uow.conn, org, (r.changed for _, r in accepted))
        if prelude.low_stock_configured
        else {}
    )
    entries: list[write_path.Entry] = []
    to_emit: list[outbox.Event] = []
    for posting, result in accepted:
        actor = posting.actor
        entries += [write_path.Entry(m, actor.label, posting.external_uuid) for m in result.movements]
        payload = event_payloads.balance_changed(
            org, actor.change_info(at_ms), result.changed, stores, posting.external_uuid
        )
        if payload is not None:
            to_emit.append(outbox.event("InventoryBalanceChanged", payload))
        to_emit += low_stock.crossings(actor, result.changed, alerted, at_ms, default_low_stock_units)
    await write_path.append_entries(uow, org, entries, to_emit, source=source.value, at_ms=at_ms)
