"""The OpenAPI request body of ``POST /stock-adjustments``, with every rule the API applies:
a ``oneOf`` of one schema per reason (discriminator ``reason``), each naming the stock level
either by ``stock_id`` or by (``item_type``, ``location_id``).

drf-spectacular documents the serializer as one flat object; this postprocessing hook replaces it.
The field schemas (patterns, lengths) are taken from that generated object, so that they stay
those of the serializer's fields.
"""

import copy

from stock.models import AdjustmentReason
from stock.services import MAX_ADJUSTMENT

OPERATION_ID = "stock_adjustments_create"
GENERATED = "StockAdjustmentCreateRequest"
REF = "#/components/schemas/"
# What a property the variant does not take may be: absent, or null (the API reads an explicit
# null as not given).
ABSENT = {"nullable": True, "enum": [None], "description": "Not for this form: absent or null."}

VARIANTS = {
    AdjustmentReason.CORRECTION: (
        "CorrectionAdjustmentRequest",
        "A manual correction: `quantity_delta` of either sign, not zero.",
        {
            "quantity_delta": {
                "type": "integer",
                "minimum": -MAX_ADJUSTMENT,
                "maximum": MAX_ADJUSTMENT,
                "not": {"enum": [0]},
            }
        },
    ),
    AdjustmentReason.DAMAGE: (
        "DamageAdjustmentRequest",
        "A damage write-off: a negative `quantity_delta`.",
        {"quantity_delta": {"type": "integer", "minimum": -MAX_ADJUSTMENT, "maximum": -1}},
    ),
    AdjustmentReason.RECEIPT: (
        "ReceiptAdjustmentRequest",
        "A shipment received outside the purchase-order flow: a positive `quantity_delta`. "
        "Named by (`item_type`, `location_id`), it creates the stock level if missing.",
        {"quantity_delta": {"type": "integer", "minimum": 1, "maximum": MAX_ADJUSTMENT}},
    ),
    AdjustmentReason.CONSUMPTION: (
        "ConsumptionAdjustmentRequest",
        "Gear used up or issued: a negative `quantity_delta`.",
        {"quantity_delta": {"type": "integer", "minimum": -MAX_ADJUSTMENT, "maximum": -1}},
    ),
    AdjustmentReason.COUNT: (
        "CountAdjustmentRequest",
        "A physical count: `counted_quantity` (sets `last_counted_at`).",
        {"counted_quantity": {"type": "integer", "minimum": 0, "maximum": MAX_ADJUSTMENT}},
    ),
}
AMOUNT_FIELDS = ("quantity_delta", "counted_quantity")


def _level_forms(generated):
    """``StockLevelById`` and ``StockLevelByPair``: the two ways to name a stock level."""
    props = generated["properties"]

    def non_null(name):
        schema = copy.deepcopy(props[name])
        schema.pop("nullable", None)
        return schema

    by_id = {
        "type": "object",
        "description": "The stock level by its id.",
        "properties": {
            "stock_id": non_null("stock_id"),
            "item_type": ABSENT,
            "location_id": ABSENT,
        },
        "required": ["stock_id"],
    }
    by_pair = {
        "type": "object",
        "description": "The stock level by item type and location.",
        "properties": {
            "stock_id": ABSENT,
            "item_type": non_null("item_type"),
            "location_id": non_null("location_id"),
        },
        "required": ["item_type", "location_id"],
    }
    return {"StockLevelById": by_id, "StockLevelByPair": by_pair}


def add_adjustment_variants(result, generator, request, public):
    """drf-spectacular postprocessing hook (see the module's docstring)."""
    components = result.get("components", {}).get("schemas", {})
    generated = components.get(GENERATED)
    operation = _operation(result)
    if generated is None or operation is None:
        return result
    components.update(copy.deepcopy(_level_forms(generated)))
    note = generated["properties"]["note"]
    mapping = {}
    for reason, (name, description, amount) in VARIANTS.items():
        properties = {
            "reason": {"type": "string", "enum": [reason.value]},
            **{field: ABSENT for field in AMOUNT_FIELDS},
            **{
                field: {**schema, "description": generated["properties"][field]["description"]}
                for field, schema in amount.items()
            },
            "note": note,
        }
        components[name] = {
            "description": description,
            "allOf": [
                {"oneOf": [{"$ref": f"{REF}StockLevelById"}, {"$ref": f"{REF}StockLevelByPair"}]},
                {
                    "type": "object",
                    "properties": copy.deepcopy(properties),
                    "required": ["reason", *amount],
                },
            ],
        }
        mapping[reason.value] = f"{REF}{name}"
    components["StockAdjustmentRequest"] = {
        "description": generated.get("description", ""),
        "oneOf": [{"$ref": ref} for ref in mapping.values()],
        "discriminator": {"propertyName": "reason", "mapping": mapping},
    }
    content = operation["requestBody"]["content"]["application/json"]
    content["schema"] = {"$ref": f"{REF}StockAdjustmentRequest"}
    del components[GENERATED]
    reason_enum = generated["properties"]["reason"].get("allOf", [{}])[0].get("$ref", "")
    if reason_enum.startswith(REF):
        components.pop(reason_enum[len(REF) :], None)
    return result


def _operation(result):
    for path_item in result.get("paths", {}).values():
        for operation in path_item.values():
            if isinstance(operation, dict) and operation.get("operationId") == OPERATION_ID:
                return operation
    return None
