"""Who is asking: the authenticated principal every use case receives."""

from __future__ import annotations

from dataclasses import dataclass

from stockledger.domain.accounts import person_actor
from stockledger.domain.event_payloads import ChangeInfo


@dataclass(frozen=True)
class Actor:
    """The caller: organization, user, client and scopes from the access token."""

    org: str
    sub: str
    client_id: str | None = None
    scopes: frozenset[str] = frozenset()
    user_type: str = "USER"  # "SYSTEM" for purchases recorded from the point of sale
    # A person signed in to the back office (`sub` is their account's UUID), not a token's subject.
    person: bool = False

    def change_info(self, at_ms: int) -> ChangeInfo:
        return ChangeInfo(self.sub, self.user_type, self.client_id, at_ms)

    @property
    def label(self) -> str:
        """How the ledger's `actor` column names this caller: PERSON:<account> for a person in the
        back office (pages and the history show their name), else the token's subject."""
        if self.person:
            return person_actor(self.sub)
        return self.sub if self.user_type == "USER" else f"{self.user_type}:{self.sub}"
