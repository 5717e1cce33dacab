"""The image service (host image.izettle.com; product-library-api §4): uploads answer a lookup key
and the image's URLs, and those URLs lead to the uploaded image."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import APIRouter, Depends, Request
from starlette.responses import RedirectResponse, Response

from stockledger.api.auth import requires
from stockledger.api.idempotency import claim_of
from stockledger.api.responses import json_response
from stockledger.api.routing import ExactJSONRoute
from stockledger.api.v3_pages import public_base
from stockledger.api.wire import ERRORS, Wire
from stockledger.domain.errors import Violation, not_found, validation_error
from stockledger.domain.images import MAX_BULK_UPLOADS, SIZES, ImageUpload, image_urls, parse_upload
from stockledger.exact_json import loads_exact
from stockledger.plumbing import WRITE_PRODUCT, app_state
from stockledger.service import images
from stockledger.service.context import Actor

router = APIRouter(route_class=ExactJSONRoute, responses=ERRORS, tags=["Images"])
ImageWriter = Depends(requires(WRITE_PRODUCT))

_UPLOAD_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["imageFormat"],
    "properties": {
        "imageFormat": {"type": "string", "enum": ["JPEG", "PNG", "GIF", "BMP", "TIFF"]},
        "imageUrl": {"type": ["string", "null"], "format": "uri"},
        "imageData": {"type": ["string", "null"], "description": "the image's bytes in base64"},
    },
}
_BULK_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["imageUploads"],
    "properties": {
        "imageUploads": {
            "type": "array",
            "maxItems": MAX_BULK_UPLOADS,
            "items": {
                "type": "object",
                "required": ["imageFormat", "imageUrl"],
                "properties": {
                    "imageFormat": {"type": "string"},
                    "imageUrl": {"type": "string", "format": "uri"},
                    "imageLookupKey": {"type": ["string", "null"]},
                },
            },
        }
    },
}


class ImageOut(Wire):
    imageLookupKey: str
    imageUrls: list[str]


class UploadedOut(ImageOut):
    source: str


class BulkOut(Wire):
    uploaded: list[UploadedOut]
    invalid: list[str]


def _body_of(schema: dict[str, Any]) -> dict[str, Any]:
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": schema}}}}


async def _json(request: Request) -> Any:
    try:
        return loads_exact(await request.body())
    except ValueError as exc:
        raise validation_error([Violation("", f"malformed JSON: {getattr(exc, 'msg', exc)}")]) from None


def _image_base(request: Request) -> str:
    """Where the image URLs point: STOCKLEDGER_IMAGE_BASE_URL, else the public address
    (STOCKLEDGER_PUBLIC_URL, or this server as the caller reached it)."""
    return app_state(request).settings.image_base_url or public_base(request) + "/"


@router.post(
    "/v2/images/organizations/{org}/products",
    response_model=ImageOut,
    openapi_extra=_body_of(_UPLOAD_SCHEMA),
)
async def upload_image(request: Request, org: str, actor: Actor = ImageWriter) -> Response:
    """Register a product image by URL (`imageUrl`) or by its bytes (`imageData`, base64); answers
    its lookup key and URLs. The same image uploaded again gets the same key. Bad input → 400."""
    upload, violations = parse_upload(await _json(request))
    if upload is None:
        raise validation_error(violations)
    [key] = await images.upload(app_state(request).db, actor.org, [upload], claim=claim_of(request))
    return json_response({"imageLookupKey": key, "imageUrls": image_urls(_image_base(request), key)})


def _rejected(item: Any) -> str:
    """An `invalid` entry: the upload's URL, or the rejected upload itself as JSON text."""
    if isinstance(item, dict) and isinstance(item.get("imageUrl"), str):
        return str(item["imageUrl"])
    return orjson.dumps(item, default=str).decode()


@router.post(
    "/v2/images/organizations/{org}/products/bulk",
    response_model=BulkOut,
    openapi_extra=_body_of(_BULK_SCHEMA),
)
async def upload_images(request: Request, org: str, actor: Actor = ImageWriter) -> Response:
    """Register several images by URL. Each valid upload is answered in `uploaded` with `source` =
    its `imageUrl` (an `imageLookupKey` sent with it is kept when it names an image of the
    organization); each invalid one is listed in `invalid` and recorded nowhere."""
    body = await _json(request)
    if isinstance(body, dict) and "imageUploads" not in body and "imageUrl" in body:
        body = {"imageUploads": [body]}  # one upload not wrapped in a list
    items = body.get("imageUploads") if isinstance(body, dict) else None
    if not isinstance(items, list):
        raise validation_error([Violation("imageUploads", "must be an array of uploads")])
    if len(items) > MAX_BULK_UPLOADS:
        raise validation_error([Violation("imageUploads", f"must hold at most {MAX_BULK_UPLOADS} uploads")])
    valid: list[ImageUpload] = []
    invalid: list[str] = []
    for index, item in enumerate(items):
        upload, _violations = parse_upload(item, f"imageUploads[{index}].")
        if upload is None or upload.source_url is None:  # a bulk upload is by URL: its source is echoed
            invalid.append(_rejected(item))
        else:
            valid.append(upload)
    keys = (
        await images.upload(app_state(request).db, actor.org, valid, claim=claim_of(request)) if valid else []
    )
    base = _image_base(request)
    uploaded = [
        {"imageLookupKey": key, "imageUrls": image_urls(base, key), "source": upload.source_url}
        for upload, key in zip(valid, keys, strict=True)
    ]
    return json_response({"uploaded": uploaded, "invalid": invalid})


@router.get(
    "/productimage/{size}/{lookupKey}",
    response_class=Response,  # a redirect: no body
    status_code=302,
    responses={302: {"description": "to the URL the image was uploaded from"}},
)
async def product_image(request: Request, size: str, lookupKey: str) -> Response:
    """An image URL handed out by an upload (`size` o or L): a redirect to the URL the image was
    uploaded from (no token, as for any image on the web). Unknown keys, images uploaded as bytes
    and other sizes → 404."""
    source = await images.source_url(app_state(request).db, lookupKey) if size in SIZES else None
    if source is None:
        raise not_found("No such image")
    return RedirectResponse(source, status_code=302)
