"""A load-generating client process: random movements, counting independently what it expects."""

from __future__ import annotations

import random
from collections import Counter

import httpx


def run_client(
    base_url: str, token: str, product: str, variants: list[str], locations: list[str], moves: int, seed: int
) -> tuple[dict[str, int], Counter[int]]:
    """Send `moves` PUTs of 1–3 random changes; return the expected net units per balance key
    ("location|variant") for the 200 answers, and the count of each status code seen."""
    rng = random.Random(seed)
    expected: Counter[str] = Counter()
    statuses: Counter[int] = Counter()
    with httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {token}"}, timeout=30) as client:
        for _ in range(moves):
            changes = []
            for _ in range(rng.randint(1, 3)):
                source, target = rng.sample(locations, 2)
                changes.append(
                    {
                        "productUuid": product,
                        "variantUuid": rng.choice(variants),
                        "fromLocationUuid": source,
                        "toLocationUuid": target,
                        "units": rng.randint(1, 5000),
                    }
                )
            body = {
                "changes": [
                    {**{k: v for k, v in c.items() if k != "units"}, "change": f"{c['units'] / 1000:.3f}"}
                    for c in changes
                ]
            }
            response = client.put("/organizations/self/inventory", json=body)
            statuses[response.status_code] += 1
            if response.status_code == 200:
                for c in changes:
                    expected[f"{c['fromLocationUuid']}|{c['variantUuid']}"] -= int(c["units"])
                    expected[f"{c['toLocationUuid']}|{c['variantUuid']}"] += int(c["units"])
    return dict(expected), statuses
