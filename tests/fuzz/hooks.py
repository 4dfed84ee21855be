"""schemathesis hooks for the fuzz run (``hooks`` in schemathesis.toml)."""

import hashlib
import json
import re

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


# A client sends a new Idempotency-Key with each new request, and the same key only with the
# same request. Generated keys are a few short strings reused across operations and bodies, so
# nearly every request would be a 422 `idempotency_key_reused`: each valid key gets a suffix
# naming the request it goes with. Identical requests keep one key (their repeats are replays);
# keys the schema calls invalid are sent as generated (negative tests expect their 400).
_VALID_KEY = re.compile(r"^[!-~]{1,255}$")


@schemathesis.hook
def before_call(context, case, **kwargs):
    headers = case.headers or {}
    for name in list(headers):
        key = headers[name]
        if name.lower() != "idempotency-key" or not isinstance(key, str):
            continue
        if not _VALID_KEY.fullmatch(key):
            continue
        # The body's key order matters (the server compares the bytes), and so do the other
        # headers (a replay answers whatever they say, e.g. a different If-Match).
        other_headers = {
            k: v
            for k, v in headers.items()
            if k.lower() not in ("idempotency-key", "authorization")
        }
        request = json.dumps(
            [
                case.method,
                case.formatted_path,
                case.query,
                other_headers,
                case.body if not isinstance(case.body, bytes) else case.body.hex(),
            ],
            default=str,
        )
        digest = hashlib.sha256(request.encode()).hexdigest()[:40]
        headers[name] = f"{key[:200]}-{digest}"
