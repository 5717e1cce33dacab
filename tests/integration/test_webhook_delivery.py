"""Webhook delivery end to end over a real socket: envelope, signature, fan-out, order, log."""

from __future__ import annotations

import asyncio
import json
import uuid

from stockledger import metrics
from stockledger.store import deliveries
from tests.conftest import Api, new_uuid
from tests.integration.webhooks_support import BASE, Hooks, verify_like_a_foreign_receiver
from tests.webhook_receiver import Received, running_receiver

ENVELOPE_KEYS = {"organizationUuid", "messageUuid", "eventName", "messageId", "payload", "timestamp"}


async def restock(api: Api, product: str, variant: str, amount: str, **extra: object) -> None:
    locs = await api.locations()
    response = await api.move(product, variant, locs["SUPPLIER"], locs["STORE"], amount, **extra)
    assert response.status_code == 200, response.text


async def test_delivery_verifies_exactly_as_a_receiver_in_another_language_would(
    api: Api, hooks: Hooks
) -> None:
    api.client_id = new_uuid()
    product, variant, external = new_uuid(), new_uuid(), "order-4711"
    async with running_receiver() as receiver:
        sub = await hooks.subscribe(api, receiver, ["InventoryBalanceChanged"])
        await api.track(product)
        await restock(api, product, variant, "2.5", externalUuid=external)
        await hooks.dispatcher.drain()
        (delivery,) = receiver.events()

    assert delivery.headers["content-type"] == "application/json"
    envelope = verify_like_a_foreign_receiver(
        delivery.body, delivery.headers["x-izettle-signature"], sub["signingKey"]
    )
    assert set(envelope) == ENVELOPE_KEYS
    assert envelope["eventName"] == "InventoryBalanceChanged"
    assert envelope["organizationUuid"] == api.org
    assert uuid.UUID(envelope["messageUuid"]).version == 1
    assert uuid.UUID(envelope["messageId"]).version == 5
    assert isinstance(envelope["payload"], str)

    payload = json.loads(envelope["payload"])
    store = (await api.locations())["STORE"]
    assert payload["organizationUuid"] == api.org
    assert payload["externalUuid"] == external
    assert payload["updated"]["uuid"] == api.sub
    assert payload["updated"]["userType"] == "USER"
    assert payload["updated"]["clientUuid"] == api.client_id
    assert payload["balanceBefore"] == [
        {
            "organizationUuid": api.org,
            "locationUuid": store,
            "productUuid": product,
            "variantUuid": variant,
            "balance": "0",
        }
    ]
    (after,) = payload["balanceAfter"]
    assert after["balance"] == "2.5"
    assert after["locationUuid"] == store
    assert after["created"].endswith("+0000")


async def test_tracking_events_carry_their_change_information(api: Api, hooks: Hooks) -> None:
    api.client_id = new_uuid()
    product = new_uuid()
    async with running_receiver() as receiver:
        sub = await hooks.subscribe(api, receiver, ["InventoryTrackingStarted", "InventoryTrackingStopped"])
        await api.track(product)
        assert (await api.delete(f"/organizations/self/inventory/products/{product}")).status_code == 204
        await hooks.dispatcher.drain()
        received = receiver.events()
    names = [r.json()["eventName"] for r in received]
    assert names == ["InventoryTrackingStarted", "InventoryTrackingStopped"]
    started, stopped = (
        json.loads(
            verify_like_a_foreign_receiver(r.body, r.headers["x-izettle-signature"], sub["signingKey"])[
                "payload"
            ]
        )
        for r in received
    )
    assert started["productUuid"] == product
    assert started["created"]["uuid"] == api.sub
    assert started["created"]["clientUuid"] == api.client_id
    assert stopped["changeInformation"]["userType"] == "USER"


async def test_one_change_fans_out_to_every_matching_subscription_with_its_own_key(
    api: Api, other_api: Api, hooks: Hooks
) -> None:
    product, variant = new_uuid(), new_uuid()
    async with (
        running_receiver() as a,
        running_receiver() as b,
        running_receiver() as c,
        running_receiver() as started_only,
        running_receiver() as foreign,
    ):
        subs = [
            await hooks.subscribe(api, a, ["InventoryBalanceChanged"]),
            await hooks.subscribe(api, b, []),
            await hooks.subscribe(api, c, ["InventoryBalanceChanged", "InventoryTrackingStopped"]),
        ]
        await hooks.subscribe(api, started_only, ["InventoryTrackingStarted"])
        await hooks.subscribe(other_api, foreign, [])
        await api.track(product)
        await restock(api, product, variant, "3")
        await hooks.dispatcher.drain()

        changed = []
        for receiver, sub in zip((a, b, c), subs, strict=True):
            (delivery,) = [r for r in receiver.events() if r.json()["eventName"] == "InventoryBalanceChanged"]
            envelope = verify_like_a_foreign_receiver(
                delivery.body, delivery.headers["x-izettle-signature"], sub["signingKey"]
            )
            changed.append(envelope)
            others = [s["signingKey"] for s in subs if s is not sub]
            for key in others:  # each message is signed with its own subscription's key
                try:
                    verify_like_a_foreign_receiver(
                        delivery.body, delivery.headers["x-izettle-signature"], key
                    )
                except AssertionError:
                    continue
                raise AssertionError("a message verified with another subscription's key")
        assert len({e["messageUuid"] for e in changed}) == 1  # the same event, three deliveries
        assert [r.json()["eventName"] for r in started_only.events()] == ["InventoryTrackingStarted"]
        assert foreign.events() == []
        assert [r.json()["eventName"] for r in a.events()] == ["InventoryBalanceChanged"]


async def test_a_subscription_receives_its_messages_in_commit_order(api: Api, hooks: Hooks) -> None:
    product, variant = new_uuid(), new_uuid()
    async with running_receiver(status_for=lambda n: 500 if n == 2 else 200) as receiver:
        sub = await hooks.subscribe(api, receiver, ["InventoryBalanceChanged"])
        await api.track(product)
        for amount in ("1", "2", "3"):
            await restock(api, product, variant, amount)
        await hooks.dispatcher.drain()
        assert len(receiver.events()) == 1  # the first failed; the later ones wait behind it
        hooks.clock.advance(60)
        await hooks.dispatcher.drain()
        balances = [json.loads(r.json()["payload"])["balanceAfter"][0]["balance"] for r in receiver.events()]
    assert balances == ["1", "1", "3", "6"]
    log = await hooks.log(api, sub["uuid"])
    assert [entry["attempts"] for entry in log] == [1, 1, 2]


async def test_different_subscriptions_are_delivered_concurrently(api: Api, hooks: Hooks) -> None:
    product = new_uuid()
    hang = asyncio.Event()
    hang.set()
    async with running_receiver(hang=hang) as slow, running_receiver() as fast:
        await hooks.subscribe(api, fast, ["InventoryTrackingStarted"])
        hang.clear()  # the test message passes, later requests hang
        await hooks.subscribe(api, slow, ["InventoryTrackingStarted"])
        hang.set()
        hooks.dispatcher.deliverer.timeout_s = 0.5
        await api.track(product)
        run = asyncio.create_task(hooks.dispatcher.run_once())
        await fast.wait_for(1)
        await slow.wait_for(1)
        assert not run.done()  # the fast one was delivered while the slow one was still waiting
        await run
    assert len(fast.events()) == 1


async def test_delivery_log_and_manual_redelivery_send_the_identical_message(api: Api, hooks: Hooks) -> None:
    async with running_receiver() as receiver:
        sub = await hooks.subscribe(api, receiver, ["InventoryTrackingStarted"])
        await api.track(new_uuid())
        await hooks.dispatcher.drain()
        (entry,) = await hooks.log(api, sub["uuid"])
        assert entry["eventName"] == "InventoryTrackingStarted"
        assert entry["state"] == "DELIVERED"
        assert entry["attempts"] == 1
        assert entry["lastStatus"] == "200"
        assert entry["nextAttempt"] is None
        assert entry["lastAttempt"] is not None

        response = await api.post(f"{BASE}/{sub['uuid']}/deliveries/{entry['messageUuid']}/redeliver")
        assert response.status_code == 202
        hooks.catch_up_with_wall_clock()  # the API stamped the redelivery with the real time
        await hooks.dispatcher.drain()
        first, second = receiver.events()
    assert first.body == second.body
    assert first.headers["x-izettle-signature"] == second.headers["x-izettle-signature"]
    (entry,) = await hooks.log(api, sub["uuid"])
    assert entry["attempts"] == 2
    missing = await api.post(f"{BASE}/{sub['uuid']}/deliveries/{new_uuid()}/redeliver")
    assert missing.status_code == 404


async def test_delivery_attempts_and_outbox_depth_are_measured(api: Api, hooks: Hooks) -> None:
    def attempts(result: str) -> float:
        return float(metrics.DELIVERY_ATTEMPTS.labels(result=result)._value.get())

    successes, failures = attempts("success"), attempts("failure")
    async with running_receiver(status_for=lambda n: 503 if n == 2 else 200) as receiver:
        await hooks.subscribe(api, receiver, ["InventoryTrackingStarted"])
        await api.track(new_uuid())
        await hooks.dispatcher.run_once()
        assert attempts("failure") == failures + 1
        assert metrics.OUTBOX_DEPTH._value.get() >= 1  # the failed message waits for its retry
        hooks.clock.advance(60)
        await hooks.dispatcher.drain()
        assert attempts("success") == successes + 1
    assert len(receiver.events()) == 2


async def test_scrapes_and_the_dispatcher_report_one_outbox_depth(api: Api, hooks: Hooks) -> None:
    """`stockledger_outbox_depth` means one thing whoever sets it: events not yet fanned out plus
    deliveries not yet made (a scrape used to count only the former)."""
    async with running_receiver(status_for=lambda n: 200 if n == 1 else 503) as receiver:  # 1: TestMessage
        await hooks.subscribe(api, receiver, ["InventoryTrackingStarted"])
        await api.track(new_uuid())
        await hooks.dispatcher.run_once()  # fanned out; the failed delivery waits for its retry
    expected = await hooks.db.read(deliveries.depth)
    assert metrics.OUTBOX_DEPTH._value.get() == expected >= 1
    scraped = await api.client.get("/metrics")
    line = next(x for x in scraped.text.splitlines() if x.startswith("stockledger_outbox_depth "))
    assert float(line.split()[1]) == expected


async def test_events_of_other_modules_reach_only_their_subscribers(api: Api, hooks: Hooks) -> None:
    from stockledger.store import outbox
    from stockledger.store.unit_of_work import UnitOfWork

    async with running_receiver() as purchases, running_receiver() as inventory:
        sub = await hooks.subscribe(api, purchases, ["PurchaseCreated", "InventoryLowStock"])
        await hooks.subscribe(api, inventory, ["InventoryBalanceChanged"])

        async def emit(uow: UnitOfWork) -> None:
            await outbox.append(uow, api.org, "PurchaseCreated", {"purchaseUuid": "p-1"}, 1_700_000_000_000)
            await outbox.append(uow, api.org, "InventoryLowStock", {"balance": "2"}, 1_700_000_000_001)

        await hooks.db.unit_of_work(emit)
        await hooks.dispatcher.drain()
        received = purchases.events()
        assert inventory.events() == []
    assert [r.json()["eventName"] for r in received] == ["PurchaseCreated", "InventoryLowStock"]
    envelope = verify_like_a_foreign_receiver(
        received[0].body, received[0].headers["x-izettle-signature"], sub["signingKey"]
    )
    assert json.loads(envelope["payload"]) == {"purchaseUuid": "p-1"}
    assert envelope["timestamp"] == "2023-11-14T22:13:20.000Z"


def _balances_after(received: list[Received]) -> list[str]:
    return [json.loads(r.json()["payload"])["balanceAfter"][0]["balance"] for r in received]


async def test_a_subscriptions_pending_messages_go_out_in_one_pass_in_order(api: Api, hooks: Hooks) -> None:
    product, variant = new_uuid(), new_uuid()
    async with running_receiver() as receiver:
        await hooks.subscribe(api, receiver, ["InventoryBalanceChanged"])
        await api.track(product)
        for amount in ("1", "2", "3"):
            await restock(api, product, variant, amount)
        hooks.catch_up_with_wall_clock()
        assert await hooks.dispatcher.run_once() == 3
        assert _balances_after(receiver.events()) == ["1", "3", "6"]


async def test_a_failure_in_a_batch_holds_the_messages_after_it_unattempted(api: Api, hooks: Hooks) -> None:
    product, variant = new_uuid(), new_uuid()
    answers = iter([200, 200, 500])  # TestMessage, first message, then the second fails

    async with running_receiver(status_for=lambda _n: next(answers, 200)) as receiver:
        sub = await hooks.subscribe(api, receiver, ["InventoryBalanceChanged"])
        await api.track(product)
        for amount in ("1", "2", "3"):
            await restock(api, product, variant, amount)
        hooks.catch_up_with_wall_clock()
        assert await hooks.dispatcher.run_once() == 2
        oldest_first = (await hooks.log(api, sub["uuid"]))[::-1]
        assert [(e["state"], e["attempts"]) for e in oldest_first] == [
            ("DELIVERED", 1),
            ("PENDING", 1),
            ("PENDING", 0),
        ]
        assert await hooks.dispatcher.run_once() == 0  # the failed one waits for its retry time
        hooks.clock.set_ms(hooks.clock.now_ms() + 60_000)
        await hooks.dispatcher.drain()
        assert _balances_after(receiver.events()) == ["1", "3", "3", "6"]
