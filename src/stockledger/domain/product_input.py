"""Reading Product Library request bodies (product-library-api §2.2) into products, and JSON merge
patches for updates (§3.5). Every violation names its property path (`variants[0].price.amount`);
unknown and read-only members are ignored. No I/O."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from stockledger.domain import products as p
from stockledger.domain.errors import Violation, validation_error
from stockledger.domain.ids import canonical_uuid
from stockledger.domain.organization import parse_currency, parse_vat_percentage
from stockledger.domain.text import NUL_REFUSED, has_nul

NOT_NULL = "must not be null"


def plain_json(value: Any) -> Any:
    """A parsed body member with its exact decimals made plain JSON numbers (for members stored as
    written, such as `online`; money never goes through here)."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, Mapping):
        return {str(k): plain_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain_json(v) for v in value]
    return value


class _Reader:
    """Reads members, collecting every violation instead of stopping at the first."""

    def __init__(self) -> None:
        self.violations: list[Violation] = []

    def fail(self, path: str, message: str) -> None:
        self.violations.append(Violation(path, message))

    def text(
        self, value: Any, path: str, max_chars: int, *, required: bool = False, not_blank: bool = False
    ) -> str | None:
        if value is None:
            if required:
                self.fail(path, NOT_NULL)
            return None
        if not isinstance(value, str):
            self.fail(path, "must be a string")
        elif has_nul(value):
            self.fail(path, NUL_REFUSED)
        elif not_blank and not value.strip():
            self.fail(path, "must not be blank")
        elif len(value) > max_chars:
            self.fail(path, f"must be at most {max_chars} characters")
        else:
            return value
        return None

    def uuid(self, value: Any, path: str, *, required: bool = False) -> str | None:
        if value is None:
            if required:
                self.fail(path, NOT_NULL)
            return None
        canonical = canonical_uuid(value)
        if canonical is None:
            self.fail(path, "must be a UUID")
        return canonical

    def boolean(self, value: Any, path: str) -> bool:
        if value is None:
            return False
        if not isinstance(value, bool):
            self.fail(path, "must be true or false")
            return False
        return value

    def mapping(self, value: Any, path: str) -> Mapping[str, Any] | None:
        if value is None:
            return None
        if not isinstance(value, Mapping):
            self.fail(path, "must be a JSON object")
            return None
        return value

    def array(self, value: Any, path: str, max_items: int) -> list[Any] | None:
        if value is None:
            return None
        if not isinstance(value, list):
            self.fail(path, "must be an array")
            return None
        if len(value) > max_items:
            self.fail(path, f"must have at most {max_items} items")
            return None
        return value

    def strings(self, value: Any, path: str, max_items: int, max_chars: int) -> tuple[str, ...]:
        items = self.array(value, path, max_items) or []
        found: list[str] = []
        for i, item in enumerate(items):
            text = self.text(item, f"{path}[{i}]", max_chars, required=True, not_blank=True)
            if text is None:
                continue
            if text in found:
                self.fail(f"{path}[{i}]", "is listed twice")
            else:
                found.append(text)
        return tuple(found)

    def uuids(self, value: Any, path: str, max_items: int) -> tuple[str, ...]:
        items = self.array(value, path, max_items) or []
        found = [self.uuid(item, f"{path}[{i}]", required=True) for i, item in enumerate(items)]
        return tuple(dict.fromkeys(u for u in found if u is not None))

    def amount(self, value: Any, path: str) -> int | None:
        """Minor units: a JSON integer, or an integral number such as 12300.0; no fraction."""
        if value is None:
            self.fail(path, NOT_NULL)
            return None
        if isinstance(value, float):  # from a Python caller; request bodies are parsed exactly
            value = Decimal(repr(value))
        if isinstance(value, bool) or not isinstance(value, int | Decimal):
            self.fail(path, "must be an integer number of minor units")
            return None
        if isinstance(value, Decimal) and (not value.is_finite() or value != value.to_integral_value()):
            self.fail(path, "must be an integer number of minor units, without a fraction")
            return None
        amount = int(value)
        if amount < 0:
            self.fail(path, "must be greater than or equal to 0")
        elif amount > p.MAX_AMOUNT:
            self.fail(path, f"must be at most {p.MAX_AMOUNT}")
        else:
            return amount
        return None

    def price(self, value: Any, path: str) -> p.Price | None:
        given = self.mapping(value, path)
        if given is None:
            return None
        amount = self.amount(given.get("amount"), f"{path}.amount")
        currency = None
        raw_currency = given.get("currencyId")
        if raw_currency is None:
            self.fail(f"{path}.currencyId", NOT_NULL)
        elif not isinstance(raw_currency, str):
            self.fail(f"{path}.currencyId", "must be a string")
        else:
            try:
                currency = parse_currency(raw_currency)
            except ValueError as exc:
                self.fail(f"{path}.currencyId", str(exc))
        if amount is None or currency is None:
            return None
        return p.Price(amount, currency)

    def vat(self, value: Any, path: str) -> Decimal | None:
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float | Decimal | str):
            self.fail(path, "must be a number from 0 to 100")
            return None
        try:
            return parse_vat_percentage(repr(value) if isinstance(value, float) else value)
        except ValueError as exc:
            self.fail(path, str(exc))
            return None

    def presentation(self, value: Any, path: str) -> p.Presentation | None:
        given = self.mapping(value, path)
        if given is None:
            return None
        return p.Presentation(
            self.text(given.get("imageUrl"), f"{path}.imageUrl", p.MAX_PRESENTATION_URL_CHARS),
            self.text(
                given.get("backgroundColor"), f"{path}.backgroundColor", p.MAX_PRESENTATION_COLOR_CHARS
            ),
            self.text(given.get("textColor"), f"{path}.textColor", p.MAX_PRESENTATION_COLOR_CHARS),
        )

    def category(self, value: Any, path: str) -> p.Category | None:
        given = self.mapping(value, path)
        if given is None:
            return None
        uuid = self.uuid(given.get("uuid"), f"{path}.uuid", required=True)
        name = self.text(given.get("name"), f"{path}.name", p.MAX_CATEGORY_NAME_CHARS, not_blank=True)
        return None if uuid is None else p.Category(uuid, name)

    def options(self, value: Any, path: str) -> tuple[p.VariantOption, ...] | None:
        items = self.array(value, path, p.MAX_OPTIONS)
        if not items:  # null, or an empty list: the variant has no options
            return None
        found: list[p.VariantOption] = []
        for i, item in enumerate(items):
            given = self.mapping(item, f"{path}[{i}]")
            if given is None:
                if item is None:
                    self.fail(f"{path}[{i}]", NOT_NULL)
                continue
            name = self.text(given.get("name"), f"{path}[{i}].name", p.MAX_OPTION_NAME_CHARS, required=True)
            option_value = self.text(
                given.get("value"), f"{path}[{i}].value", p.MAX_OPTION_VALUE_CHARS, required=True
            )
            if name is not None and not name:
                self.fail(f"{path}[{i}].name", "must not be empty")
            elif option_value is not None and not option_value:
                self.fail(f"{path}[{i}].value", "must not be empty")
            elif name is not None and option_value is not None:
                found.append(p.VariantOption(name, option_value))
        return tuple(found)

    def definitions(self, value: Any, path: str) -> tuple[p.OptionDefinition, ...] | None:
        given = self.mapping(value, path)
        if given is None:
            return None
        items = self.array(given.get("definitions"), f"{path}.definitions", p.MAX_DEFINITIONS)
        if not items:  # `{"definitions": []}` defines nothing: stored (and answered) as null
            return None
        found: list[p.OptionDefinition] = []
        for i, item in enumerate(items):
            at = f"{path}.definitions[{i}]"
            definition = self.mapping(item, at)
            if definition is None:
                continue
            name = self.text(
                definition.get("name"), f"{at}.name", p.MAX_OPTION_NAME_CHARS, required=True, not_blank=True
            )
            if name is not None and name in {d.name for d in found}:
                self.fail(f"{at}.name", "is listed twice")
                name = None
            properties = self.array(
                definition.get("properties"), f"{at}.properties", p.MAX_DEFINITION_PROPERTIES
            )
            if not properties:
                self.fail(f"{at}.properties", "must list at least one value")
                continue
            values: list[p.OptionProperty] = []
            for j, raw in enumerate(properties):
                prop = self.mapping(raw, f"{at}.properties[{j}]")
                if prop is None:
                    continue
                prop_value = self.text(
                    prop.get("value"), f"{at}.properties[{j}].value", p.MAX_OPTION_VALUE_CHARS, required=True
                )
                image_url = self.text(
                    prop.get("imageUrl"), f"{at}.properties[{j}].imageUrl", p.MAX_DEFINITION_IMAGE_URL_CHARS
                )
                if prop_value is not None and not prop_value:
                    self.fail(f"{at}.properties[{j}].value", "must not be empty")
                elif prop_value is not None and prop_value in {v.value for v in values}:
                    self.fail(f"{at}.properties[{j}].value", "is listed twice")
                elif prop_value is not None:
                    values.append(p.OptionProperty(prop_value, image_url or None))
            if name is not None:
                found.append(p.OptionDefinition(name, tuple(values)))
        return tuple(found)

    def online(self, value: Any, path: str) -> dict[str, Any] | None:
        given = self.mapping(value, path)
        if given is None:
            return None
        status = given.get("status")
        if status is None:
            self.fail(f"{path}.status", NOT_NULL)
        elif status not in p.ONLINE_STATUSES:
            self.fail(f"{path}.status", "must be ACTIVE or HIDDEN")
        self.text(given.get("title"), f"{path}.title", p.MAX_ONLINE_TITLE_CHARS)
        self.text(given.get("description"), f"{path}.description", p.MAX_ONLINE_DESCRIPTION_CHARS)
        seo = self.mapping(given.get("seo"), f"{path}.seo")
        if seo is not None:
            slug = self.text(seo.get("slug"), f"{path}.seo.slug", p.MAX_SEO_SLUG_CHARS)
            if slug == "":
                self.fail(f"{path}.seo.slug", "must not be empty")
            self.text(seo.get("title"), f"{path}.seo.title", p.MAX_SEO_TITLE_CHARS)
            self.text(
                seo.get("metaDescription"), f"{path}.seo.metaDescription", p.MAX_SEO_META_DESCRIPTION_CHARS
            )
        cleaned: dict[str, Any] = plain_json(given)
        return cleaned

    def metadata(self, value: Any, path: str) -> dict[str, Any] | None:
        given = self.mapping(value, path)
        if given is None:
            return None
        in_pos = given.get("inPos")
        if in_pos is None:
            self.fail(f"{path}.inPos", NOT_NULL)
        elif not isinstance(in_pos, bool):
            self.fail(f"{path}.inPos", "must be true or false")
        kept: dict[str, Any] = {"inPos": in_pos}
        source = self.mapping(given.get("source"), f"{path}.source")
        if source is not None:
            name = self.text(source.get("name"), f"{path}.source.name", p.MAX_SOURCE_NAME_CHARS)
            external = source.get("external")
            if external is not None and not isinstance(external, bool):
                self.fail(f"{path}.source.external", "must be true or false")
            kept["source"] = {"name": name, "external": external}
        return kept

    def variant(self, value: Any, path: str, definitions: Any) -> tuple[p.Variant | None, Decimal | None]:
        given = self.mapping(value, path)
        if given is None:
            if value is None:
                self.fail(path, NOT_NULL)
            return None, None
        uuid = self.uuid(given.get("uuid"), f"{path}.uuid", required=True)
        variant = p.Variant(
            uuid=uuid or "",
            name=self.text(given.get("name"), f"{path}.name", p.MAX_NAME_CHARS),
            description=self.text(given.get("description"), f"{path}.description", p.MAX_DESCRIPTION_CHARS),
            sku=self.text(given.get("sku"), f"{path}.sku", p.MAX_SKU_CHARS),
            barcode=self.text(given.get("barcode"), f"{path}.barcode", p.MAX_BARCODE_CHARS),
            unit_name=self.text(given.get("unitName"), f"{path}.unitName", p.MAX_UNIT_NAME_CHARS),
            price=self.price(given.get("price"), f"{path}.price"),
            cost_price=self.price(given.get("costPrice"), f"{path}.costPrice"),
            options=self.options(given.get("options"), f"{path}.options"),
            presentation=self.presentation(given.get("presentation"), f"{path}.presentation"),
        )
        vat = self.vat(given.get("vatPercentage"), f"{path}.vatPercentage")
        self.options_defined(variant, path, definitions)
        return (variant if uuid is not None else None), vat

    def options_defined(
        self, variant: p.Variant, path: str, definitions: tuple[p.OptionDefinition, ...] | None
    ) -> None:
        """A variant's options name defined options and their defined values (when the product
        defines any: without definitions a variant's options are taken as written)."""
        if definitions is None or variant.options is None:
            return
        defined = {d.name: {prop.value for prop in d.properties} for d in definitions}
        for j, option in enumerate(variant.options):
            if option.name not in defined:
                self.fail(f"{path}.options[{j}].name", "is not an option of variantOptionDefinitions")
            elif option.value not in defined[option.name]:
                self.fail(
                    f"{path}.options[{j}].value",
                    f"is not a value of option {option.name} in variantOptionDefinitions",
                )


def parse_product(doc: Any) -> p.Product:
    """A complete product from a create body (or a merged update): every violation at once → 400."""
    if not isinstance(doc, Mapping):
        raise validation_error([Violation("", "the body must be a JSON object")])
    r = _Reader()
    uuid = r.uuid(doc.get("uuid"), "uuid", required=True)
    name = r.text(doc.get("name"), "name", p.MAX_NAME_CHARS, required=True, not_blank=True)
    description = r.text(doc.get("description"), "description", p.MAX_DESCRIPTION_CHARS)
    categories = r.strings(
        doc.get("categories"), "categories", p.MAX_LEGACY_CATEGORIES, p.MAX_CATEGORY_NAME_CHARS
    )
    category = r.category(doc.get("category"), "category")
    image_keys = r.strings(
        doc.get("imageLookupKeys"), "imageLookupKeys", p.MAX_IMAGE_LOOKUP_KEYS, p.MAX_IMAGE_LOOKUP_KEY_CHARS
    )
    presentation = r.presentation(doc.get("presentation"), "presentation")
    definitions = r.definitions(doc.get("variantOptionDefinitions"), "variantOptionDefinitions")
    external_reference = r.text(
        doc.get("externalReference"), "externalReference", p.MAX_EXTERNAL_REFERENCE_CHARS
    )
    unit_name = r.text(doc.get("unitName"), "unitName", p.MAX_UNIT_NAME_CHARS)
    vat = r.vat(doc.get("vatPercentage"), "vatPercentage")
    tax_exempt = r.boolean(doc.get("taxExempt"), "taxExempt")
    tax_rates = r.uuids(doc.get("taxRates"), "taxRates", p.MAX_TAX_RATES)
    tax_code = r.text(doc.get("taxCode"), "taxCode", p.MAX_TAX_CODE_CHARS)
    online = r.online(doc.get("online"), "online")
    metadata = r.metadata(doc.get("metadata"), "metadata")

    variants: list[p.Variant] = []
    variant_vats: list[tuple[int, Decimal]] = []
    seen: set[str] = set()
    for i, item in enumerate(r.array(doc.get("variants"), "variants", p.MAX_VARIANTS) or []):
        variant, variant_vat = r.variant(item, f"variants[{i}]", definitions)
        if variant is None:
            continue
        if variant.uuid in seen:
            r.fail(f"variants[{i}].uuid", "is listed twice")
            continue
        seen.add(variant.uuid)
        variants.append(variant)
        if variant_vat is not None:
            variant_vats.append((i, variant_vat))
    # One rate per product (variants answer the product's): a variant's rate stands in for a missing
    # product rate, and a variant may not disagree with it.
    if vat is None and variant_vats:
        vat = variant_vats[0][1]
    for i, variant_vat in variant_vats:
        if variant_vat != vat:
            r.fail(f"variants[{i}].vatPercentage", "must equal the product's vatPercentage")

    if r.violations:
        raise validation_error(r.violations)
    assert uuid is not None and name is not None
    return p.Product(
        uuid=uuid,
        name=name,
        variants=tuple(variants),
        description=description,
        category=category,
        categories=categories,
        image_lookup_keys=image_keys,
        presentation=presentation,
        option_definitions=definitions,
        external_reference=external_reference,
        unit_name=unit_name,
        vat_percentage=vat,
        tax_exempt=tax_exempt,
        tax_rates=tax_rates,
        tax_code=tax_code,
        online=online,
        metadata=metadata,
    )
