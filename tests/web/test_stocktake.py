"""Stocktake by file: CSV upload, preview of every difference, one all-or-nothing count, conflicts."""

from __future__ import annotations

import re
import uuid

import httpx

from stockledger.service.stocktake import parse_csv
from tests.web.conftest import Ui, csrf_of


async def upload(ui: Ui, text: str | bytes, location: str = "", token: str | None = None) -> httpx.Response:
    token = token if token is not None else csrf_of((await ui.client.get("/ui/stocktake")).text)
    data = {"csrf_token": token}
    if location:
        data["location"] = location
    content = text.encode() if isinstance(text, str) else text
    files = {"file": ("counts.csv", content, "text/csv")}
    return await ui.client.post("/ui/stocktake", data=data, files=files)


async def balances_of(ui: Ui, location: str) -> dict[str, str]:
    body = (await ui.api.get(f"/organizations/self/inventory/locations/{location}")).json()
    return {v["variantUuid"]: v["balance"] for v in body["variants"]}


async def catalog(ui: Ui, n: int, quantity: int = 5) -> tuple[str, list[str], dict[str, str]]:
    """One tracked product with `n` variants named V0…, SKUs SKU-0…, each with `quantity` in the store."""
    product = str(uuid.uuid4())
    variants = sorted(str(uuid.uuid4()) for _ in range(n))
    await ui.api.track(product)
    if n <= 100:  # names for the small catalogs; the big one is known by UUIDs only
        named = [{"uuid": v, "name": f"V{i}", "sku": f"SKU-{i}"} for i, v in enumerate(variants)]
        body = {"name": "Counted thing", "variants": named}
        assert (
            await ui.api.put(f"/organizations/self/catalog/products/{product}", json=body)
        ).status_code == 200
    locs = await ui.api.locations()
    changes = [
        {
            "productUuid": product,
            "variantUuid": v,
            "fromLocationUuid": locs["SUPPLIER"],
            "toLocationUuid": locs["STORE"],
            "change": quantity,
        }
        for v in variants
    ]
    for start in range(0, len(changes), 1000):
        response = await ui.api.put(
            "/organizations/self/inventory", json={"changes": changes[start : start + 1000]}
        )
        assert response.status_code == 200, response.text
    return product, variants, locs


async def test_upload_previews_every_difference_then_applies_them_as_one_count(ui: Ui) -> None:
    product, (a, b, c), locs = await catalog(ui, 3)
    text = f"productUuid,variantUuid,sku,balance\n{product},{a},,7\n{product},{b},,5\n,,SKU-2,0\n"
    response = await upload(ui, text)
    assert response.status_code == 303, response.text
    preview_url = response.headers["location"]
    assert re.fullmatch(r"/ui/stocktake/[0-9a-f-]{36}", preview_url)
    preview = (await ui.client.get(preview_url)).text
    assert "data-rows>3<" in preview and "data-differences>2<" in preview
    assert "data-delta>+2<" in preview and "data-delta>-5<" in preview
    assert "SKU-2" in preview and "Counted thing" in preview
    assert await balances_of(ui, locs["STORE"]) == {a: "5", b: "5", c: "5"}  # nothing yet
    applied = await ui.client.post(f"{preview_url}/apply", data={"csrf_token": csrf_of(preview)})
    assert applied.status_code == 303
    assert await balances_of(ui, locs["STORE"]) == {a: "7", b: "5", c: "0"}
    done = (await ui.client.get(preview_url)).text
    assert "data-applied" in done and "Apply 3 counts" not in done
    again = await ui.client.post(f"{preview_url}/apply", data={"csrf_token": csrf_of(done)})
    assert again.status_code == 409 and "already been applied" in again.text


async def test_bad_rows_are_listed_by_line_and_nothing_can_be_applied(ui: Ui) -> None:
    product, (a, b), locs = await catalog(ui, 2)
    untracked = str(uuid.uuid4())
    text = (
        "productUuid,variantUuid,sku,balance\n"
        f"{product},{a},,3\n"  # line 2: good
        f"{product},not-a-uuid,,3\n"  # line 3
        f"{product},{b},,-1\n"  # line 4
        ",,NOPE,2\n"  # line 5
        f"{product},{a},,4\n"  # line 6: duplicate of line 2
        f"{untracked},{b},,1\n"  # line 7
        f"{product},{b},,lots\n"  # line 8
    )
    response = await upload(ui, text)
    assert response.status_code == 400
    lines = [int(n) for n in re.findall(r"<td class=\"num\" data-line>(\d+)</td>", response.text)]
    assert lines == [3, 4, 5, 6, 7, 8]
    assert "not a UUID" in response.text and "cannot be negative" in response.text
    assert "is not in the catalog" in response.text and "already counted on line 2" in response.text
    assert "is not tracked" in response.text
    assert 'id="file-error"' in response.text and "/apply" not in response.text
    assert await balances_of(ui, locs["STORE"]) == {a: "5", b: "5"}


async def test_a_file_without_the_needed_columns_is_refused_next_to_the_field(ui: Ui) -> None:
    response = await upload(ui, "name,qty\nx,1\n")
    assert response.status_code == 400
    assert 'id="file-error"' in response.text and "Line 1 must name the columns" in response.text
    # A spreadsheet's Windows code page is read as such (one reader for every CSV: domain/csv_files.py)
    cp1252 = await upload(ui, "sku,balance\nCAFÉ-1,2\n".encode("cp1252"))
    assert cp1252.status_code == 400 and "CAFÉ-1" in cp1252.text and "not in the catalog" in cp1252.text
    workbook = await upload(ui, b"PK\x03\x04" + bytes(200))
    assert workbook.status_code == 400 and "spreadsheet workbook, not CSV" in workbook.text


async def test_a_balance_changed_after_the_preview_applies_nothing_and_shows_the_new_balance(ui: Ui) -> None:
    product, (a, b), locs = await catalog(ui, 2)
    response = await upload(ui, f"productUuid,variantUuid,balance\n{product},{a},9\n{product},{b},1\n")
    preview_url = response.headers["location"]
    preview = (await ui.client.get(preview_url)).text
    await ui.api.move(product, a, locs["STORE"], locs["SOLD"], 2)  # a sale between preview and apply
    conflict = await ui.client.post(f"{preview_url}/apply", data={"csrf_token": csrf_of(preview)})
    assert conflict.status_code == 303
    assert await balances_of(ui, locs["STORE"]) == {a: "3", b: "5"}  # nothing applied
    shown = (await ui.client.get(preview_url)).text
    assert "data-conflict" in shown and "1 balances changed" in shown
    assert '<tr class="changed">' in shown and '<s class="muted">5</s> 3' in shown
    assert "data-delta>+6<" in shown
    await ui.client.post(f"{preview_url}/apply", data={"csrf_token": csrf_of(shown)})
    assert await balances_of(ui, locs["STORE"]) == {a: "9", b: "1"}


async def test_ten_thousand_rows_are_parsed_previewed_and_applied(ui: Ui) -> None:
    product, variants, locs = await catalog(ui, 10_000, quantity=5)
    rows = "".join(f"{product},{v},{i % 7}\n" for i, v in enumerate(variants))
    response = await upload(ui, "productUuid,variantUuid,balance\n" + rows)
    assert response.status_code == 303, response.text[:2000]
    preview = (await ui.client.get(response.headers["location"])).text
    assert "data-rows>10000<" in preview
    differences = sum(1 for i in range(10_000) if i % 7 != 5)
    assert f"data-differences>{differences}<" in preview
    applied = await ui.client.post(
        response.headers["location"] + "/apply", data={"csrf_token": csrf_of(preview)}
    )
    assert applied.status_code == 303
    after = await balances_of(ui, locs["STORE"])
    assert all(after[v] == str(i % 7) for i, v in enumerate(variants))


async def test_stocktake_posts_without_the_csrf_token_are_refused(ui: Ui) -> None:
    product, (a,), locs = await catalog(ui, 1)
    refused = await upload(ui, f"productUuid,variantUuid,balance\n{product},{a},1\n", token="forged")
    assert refused.status_code == 403
    response = await upload(ui, f"productUuid,variantUuid,balance\n{product},{a},1\n")
    forged = await ui.client.post(response.headers["location"] + "/apply", data={"csrf_token": "forged"})
    assert forged.status_code == 403
    assert await balances_of(ui, locs["STORE"]) == {a: "5"}


async def test_another_organizations_stocktake_is_not_found(ui: Ui, other_api: object) -> None:
    product, (a,), _ = await catalog(ui, 1)
    response = await upload(ui, f"productUuid,variantUuid,balance\n{product},{a},1\n")
    unknown = await ui.client.get(f"/ui/stocktake/{uuid.uuid4()}")
    assert unknown.status_code == 404
    assert (await ui.client.get(response.headers["location"])).status_code == 200


def test_parsing_accepts_semicolons_quotes_a_bom_and_skips_blank_lines() -> None:
    text = '\ufeffSKU;Counted\n"A;1";2,5\n\n"B";3\n'
    parsed = parse_csv(text.encode())
    assert parsed.file_error is None
    assert [(r["line"], r["sku"]) for r in parsed.rows] == [(4, "B")]
    assert [e.line for e in parsed.errors] == [2]  # 2,5 is not a number with a dot
