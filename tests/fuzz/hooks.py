"""schemathesis hooks for the fuzz run (``hooks`` in schemathesis.toml)."""

import schemathesis

# Links whose request body is the whole request: moving a purchase order sends just its next
# status. Merged into a generated body (schemathesis' default), the move would mostly fail on the
# generated edits (a 409 once the PO is past draft), and the walk would rarely get beyond it.
EXACT_BODY_LINKS = {"MovePurchaseOrder"}


@schemathesis.hook
def before_load_schema(context, raw_schema):
    for path_item in raw_schema.get("paths", {}).values():
        for operation in path_item.values():
            if not isinstance(operation, dict):
                continue
            for response in operation.get("responses", {}).values():
                for name, link in response.get("links", {}).items():
                    if name in EXACT_BODY_LINKS:
                        link["x-schemathesis"] = {"merge_body": False}
