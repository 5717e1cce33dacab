"""Scenario 11: listing a Product Library of 10,000 products × 5 variants, as integrations do on a
full sync (`GET /organizations/self/products/v2` and the v1 list; neither has paging: the answer is
the whole library as one JSON array), and reading one product (what a per-product import does).

The library is seeded with direct inserts of the rows the service itself would write (built by the
store's own row functions from domain products), not with 10,000 HTTP calls. Each list fetch is
timed end to end (last byte read) with the server's CPU time around it; the v2 and v1 lists
alternate fetch by fetch so both meet the same machine load. The bench process also parses each
answer with Python's `json` (what a Python client's `response.json()` does) and reports that time:
the client's own share of a full sync.
"""

from __future__ import annotations

import json
import random
import time
import uuid
from decimal import Decimal
from typing import Any

from bench.env import Backend, Org, Server
from stockledger.domain import products as p
from stockledger.store.library import product_row, variant_rows

SIZES = ("XS", "S", "M", "L", "XL")
CATEGORIES = 20
ONE_PRODUCT_READS = 200  # GET …/products/{uuid} of random products, one after the other


def _uuid(kind: int, n: int) -> str:
    return str(uuid.UUID(int=(kind << 96) | n, version=1))


def library_products(org: str, products: int, variants: int, now_ms: int) -> list[p.Product]:
    """A shop's catalogue as the plugins write it: names, descriptions, a category, an image, SKUs,
    barcodes, prices and cost prices, one size option per variant, VAT, metadata."""
    categories = [p.Category(_uuid(3, c), f"Category {c}") for c in range(CATEGORIES)]
    definitions = (p.OptionDefinition("Size", tuple(p.OptionProperty(s, None) for s in SIZES[:variants])),)
    made = []
    for n in range(products):
        name = f"Product {n:05d}"
        made.append(
            p.Product(
                uuid=_uuid(1, n),
                name=name,
                description=f"{name}: organic cotton, made to last.",
                category=categories[n % CATEGORIES],
                image_lookup_keys=(f"bench{n:017d}-image{n:017d}.jpeg",),
                presentation=p.Presentation(f"https://image.example/productimage/o/{n}.jpeg", None, None),
                option_definitions=definitions if variants > 1 else None,
                external_reference=f"ID:{n}",
                vat_percentage=Decimal(25),
                metadata={"inPos": True, "source": {"name": "SHOPWARE", "external": True}},
                etag=p.new_etag(),
                created_ms=now_ms + n,
                updated_ms=now_ms + n,
                created_by=org,
                updated_by=org,
                variants=tuple(
                    p.Variant(
                        uuid=_uuid(2, n * variants + v),
                        name=f"{name} {SIZES[v % len(SIZES)]}",
                        sku=f"SKU-{n:05d}-{v}",
                        barcode=f"73{n:08d}{v:03d}",
                        price=p.Price(19900 + 100 * v, "SEK"),
                        cost_price=p.Price(9900, "SEK"),
                        options=(p.VariantOption("Size", SIZES[v % len(SIZES)]),),
                    )
                    for v in range(variants)
                ),
            )
        )
    return made


def seed_library(backend: Backend, products: int, variants: int) -> Org:
    """A new organization whose library holds `products` products of `variants` variants each."""
    org = backend.seed(0)
    now = int(time.time() * 1000)
    made = library_products(org.uuid, products, variants, now)
    product_rows = [product_row(org.uuid, product) for product in made]
    variant_dicts = [row for product in made for row in variant_rows(org.uuid, product)]
    category_rows = [
        (org.uuid, c.uuid, c.name, p.new_etag(), now, now, org.uuid)
        for c in {product.category for product in made if product.category is not None}
    ]
    product_columns, variant_columns = list(product_rows[0]), list(variant_dicts[0])
    backend.insert_rows(
        [
            (
                "product_categories",
                ["org_uuid", "uuid", "name", "etag", "created_ms", "updated_ms", "updated_by"],
                category_rows,
            ),
            ("catalog_products", product_columns, [tuple(r.values()) for r in product_rows]),
            ("catalog_variants", variant_columns, [tuple(r.values()) for r in variant_dicts]),
        ]
    )
    org.variants = products * variants
    org.per_product = variants
    return org


def _fetch(server: Server, org: Org, path: str, products: int, variants: int) -> dict[str, Any]:
    cpu = server.cpu_seconds()
    seconds, status, data = server.timed("GET", path, None, org.token)
    cpu = server.cpu_seconds() - cpu
    started = time.perf_counter()
    listed = json.loads(data) if status == 200 else []
    parse_s = time.perf_counter() - started
    complete = len(listed) == products and all(len(item["variants"]) == variants for item in listed)
    return {
        "latency_ms": seconds * 1000,
        "cpu_ms": cpu * 1000,
        "client_parse_ms": parse_s * 1000,
        "mb": len(data) / 1e6,
        "errors": int(status != 200 or not complete),
    }


def run(backend: Backend, org: Org, runs: int, products: int) -> list[dict[str, Any]]:
    """Rows of scenario 11: the v2 list, the v1 list, and one product read."""
    variants = org.per_product
    lists = {"v2": "/organizations/self/products/v2", "v1": "/organizations/self/products"}
    results: dict[str, list[dict[str, Any]]] = {"v2": [], "v1": [], "one": []}
    params = {"products": products, "variants": variants}
    with Server(backend) as server:
        status, data = server.request("GET", "/organizations/self/products/v2/count", token=org.token)
        assert status == 200 and json.loads(data) == {"productCount": products}, data
        before = server.peak_rss_kb()
        first = _fetch(server, org, lists["v2"], products, variants)  # also the warm-up
        first["peak_growth_mb"] = (server.peak_rss_kb() - before) / 1024
        for i in range(runs):
            for api in ("v2", "v1") if i % 2 == 0 else ("v1", "v2"):
                results[api].append(_fetch(server, org, lists[api], products, variants))
        results["v2"][0]["peak_growth_mb"] = first["peak_growth_mb"]
        picks = random.Random(10).choices(range(products), k=ONE_PRODUCT_READS)
        for _ in range(runs):
            cpu, started, errors = server.cpu_seconds(), time.perf_counter(), 0
            for n in picks:
                status, _ = server.request(
                    "GET", f"/organizations/self/products/{_uuid(1, n)}", token=org.token
                )
                errors += int(status != 200)
            elapsed, cpu = time.perf_counter() - started, server.cpu_seconds() - cpu
            results["one"].append(
                {
                    "latency_ms": 1000 * elapsed / len(picks),
                    "cpu_ms": 1000 * cpu / len(picks),
                    "errors": errors,
                }
            )
    return [
        {
            "scenario": "11 product list",
            "backend": backend.kind,
            "params": {**params, "api": label},
            "runs": rs,
        }
        for label, rs in (
            ("GET …/products/v2", results["v2"]),
            ("GET …/products (v1)", results["v1"]),
            (f"GET …/products/{{uuid}} ×{ONE_PRODUCT_READS}, per request", results["one"]),
        )
    ]
