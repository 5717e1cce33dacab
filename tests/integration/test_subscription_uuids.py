"""Two organizations may choose the same subscription UUID: each subscription gets only its own
organization's messages, keeps its own status and log, and is retried, redelivered and deleted on
its own."""

from __future__ import annotations

from tests.conftest import Api, new_uuid
from tests.integration.webhooks_support import BASE, Hooks, verify_like_a_foreign_receiver
from tests.webhook_receiver import running_receiver


async def test_subscriptions_sharing_a_uuid_across_organizations_are_independent(
    api: Api, other_api: Api, hooks: Hooks
) -> None:
    shared = new_uuid()
    # The other organization's receiver accepts the test message, then fails every delivery.
    async with (
        running_receiver() as mine,
        running_receiver(status_for=lambda n: 200 if n == 1 else 500) as theirs,
    ):
        my_sub = await hooks.subscribe(api, mine, ["InventoryTrackingStarted"], uuid=shared)
        their_sub = await hooks.subscribe(other_api, theirs, ["InventoryTrackingStarted"], uuid=shared)
        await other_api.track(new_uuid())  # theirs fails: a pending delivery of the same UUID
        await hooks.dispatcher.drain()
        await api.track(new_uuid())
        await api.track(new_uuid())
        await hooks.dispatcher.drain()

        # Each receiver got only its organization's messages, signed with its own key.
        assert len(mine.events()) == 2  # not held behind the other organization's failing message
        for delivery in mine.events():
            envelope = verify_like_a_foreign_receiver(
                delivery.body, delivery.headers["x-izettle-signature"], my_sub["signingKey"]
            )
            assert envelope["organizationUuid"] == api.org
        (failed,) = theirs.events()
        assert failed.json()["organizationUuid"] == other_api.org

        # Status and log are per organization.
        statuses = {s["uuid"]: s["status"] for s in (await api.get(BASE)).json()}
        assert statuses == {shared: "ACTIVE"}
        assert [s["status"] for s in (await other_api.get(BASE)).json()] == ["FAILING"]
        my_log, their_log = await hooks.log(api, shared), await hooks.log(other_api, shared)
        assert [e["state"] for e in my_log] == ["DELIVERED", "DELIVERED"]
        assert [e["state"] for e in their_log] == ["PENDING"]

        # Redelivering one organization's message touches only its delivery.
        message = my_log[0]["messageUuid"]
        assert (await other_api.post(f"{BASE}/{shared}/deliveries/{message}/redeliver")).status_code == 404
        assert (await api.post(f"{BASE}/{shared}/deliveries/{message}/redeliver")).status_code == 202
        hooks.catch_up_with_wall_clock()
        await hooks.dispatcher.drain()
        assert len(mine.events()) == 3

        # Deleting the other organization's subscription cancels only its pending delivery.
        assert (await other_api.delete(f"{BASE}/{shared}")).status_code == 204
        assert [e["state"] for e in await hooks.log(other_api, shared)] == ["CANCELLED"]
        assert [e["state"] for e in await hooks.log(api, shared)] == ["DELIVERED", "DELIVERED"]
        assert [s["uuid"] for s in (await api.get(BASE)).json()] == [shared]
        await api.track(new_uuid())
        await hooks.dispatcher.drain()
        assert len(mine.events()) == 4
    assert their_sub["signingKey"] != my_sub["signingKey"]
