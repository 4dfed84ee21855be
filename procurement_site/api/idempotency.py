"""``Idempotency-Key`` on every POST and PATCH of the API (see ``integrations.idempotency``).

``IdempotentAPIView`` runs a keyed request in one transaction: claim the key, run the view (in a
savepoint, so a failed handler leaves the transaction usable), store the response unless it is a
5xx (then nothing of the request is kept), commit. Every view with a POST or PATCH inherits it
(a test walks the URL patterns to check). The OpenAPI document gets the header, the 409 and 422
answers and ``Idempotent-Replayed`` from ``document_idempotency`` (a postprocessing hook), on every
POST and PATCH operation.
"""

from django.db import transaction
from django.http.request import RawPostDataException
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import APIView

from integrations import idempotency

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
METHODS = ("POST", "PATCH")


class InvalidIdempotencyKey(exceptions.APIException):
    status_code = 400
    default_code = "invalid_idempotency_key"
    default_detail = "Idempotency-Key must be 1 to 255 visible ASCII characters."


class IdempotencyKeyReused(exceptions.APIException):
    status_code = 422
    default_code = "idempotency_key_reused"
    default_detail = (
        "This Idempotency-Key was used for another request (method, path or body); "
        "use a new key for a new request."
    )


class IdempotencyKeyInProgress(exceptions.APIException):
    status_code = 409
    default_code = "idempotency_key_in_progress"
    default_detail = (
        "A request with this Idempotency-Key is still being processed; retry it shortly."
    )


class IdempotentAPIView(APIView):
    """Honours ``Idempotency-Key`` on POST and PATCH. Mix it in first:
    ``class MyView(IdempotentAPIView, generics.GenericAPIView)``."""

    def dispatch(self, request, *args, **kwargs):
        if request.method not in METHODS or HEADER not in request.headers:
            return super().dispatch(request, *args, **kwargs)
        try:
            body = request.body
        except RawPostDataException:
            return super().dispatch(request, *args, **kwargs)
        with transaction.atomic():
            return self._dispatch_once(request, body, *args, **kwargs)

    def _dispatch_once(self, request, body, *args, **kwargs):
        """DRF's ``dispatch``, with the key claimed after authentication and permissions and the
        response stored before the commit."""
        self.args, self.kwargs = args, kwargs
        request = self.initialize_request(request, *args, **kwargs)
        self.request = request
        self.headers = self.default_response_headers
        claimed = None
        try:
            self.initial(request, *args, **kwargs)
            if not request.user.is_authenticated:
                # Keys belong to users; a view open to anonymous writes (none today) runs as usual.
                handler = getattr(self, request.method.lower(), self.http_method_not_allowed)
                return self._finish(request, handler(request, *args, **kwargs), *args, **kwargs)
            key = request.headers[HEADER]
            if not idempotency.is_valid_key(key):
                raise InvalidIdempotencyKey()
            fingerprint = idempotency.fingerprint(
                method=request.method, path=request.get_full_path(), body=body
            )
            try:
                stored = idempotency.claim(user=request.user, key=key, fingerprint=fingerprint)
            except idempotency.KeyInProgress:
                raise IdempotencyKeyInProgress() from None
            except idempotency.KeyReused:
                raise IdempotencyKeyReused() from None
            if stored is not None:
                response = Response(
                    stored.body,
                    status=stored.status_code,
                    headers={**stored.headers, REPLAYED_HEADER: "true"},
                )
            else:
                claimed = (key, fingerprint)
                handler = getattr(self, request.method.lower(), self.http_method_not_allowed)
                with transaction.atomic():
                    response = handler(request, *args, **kwargs)
        except Exception as exc:
            response = self.handle_exception(exc)
        response = self._finish(request, response, *args, **kwargs)
        if claimed is not None:
            if response.status_code >= 500:
                transaction.set_rollback(True)
            else:
                key, fingerprint = claimed
                idempotency.store_response(
                    user=request.user,
                    key=key,
                    method=request.method,
                    path=request.get_full_path(),
                    fingerprint=fingerprint,
                    status_code=response.status_code,
                    body=response.data,
                    headers=response,
                )
        return response

    def _finish(self, request, response, *args, **kwargs):
        self.response = self.finalize_response(request, response, *args, **kwargs)
        return self.response


# --- OpenAPI ------------------------------------------------------------------------------------

IDEMPOTENCY_PARAMETER = {
    "in": "header",
    "name": HEADER,
    "required": False,
    "schema": {"type": "string", "pattern": idempotency.KEY_PATTERN, "maxLength": 255},
    "description": (
        "Makes the request safe to retry: a repeat with the same key, method, path and body gets "
        "the first response again (with `Idempotent-Replayed: true`) and changes nothing; the "
        "same key with another request is a 422 `idempotency_key_reused`; a repeat while the "
        "first still runs is a 409 `idempotency_key_in_progress`. Keys are per user and kept "
        "`IDEMPOTENCY_KEY_TTL_HOURS` (default 24). Not 1 to 255 visible ASCII characters: 400."
    ),
}
REPLAYED_RESPONSE_HEADER = {
    "schema": {"type": "string", "enum": ["true"]},
    "required": False,
    "description": "Present on a replayed response: it is the stored answer to the first request.",
}
IN_PROGRESS = "`idempotency_key_in_progress`: a request with this `Idempotency-Key` still runs."
REUSED = "`idempotency_key_reused`: the `Idempotency-Key` was used for another request."


def document_idempotency(result, generator, request, public):
    """drf-spectacular postprocessing hook: the header, its answers and the replay marker on every
    POST and PATCH operation."""
    error = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    for path_item in result.get("paths", {}).values():
        for method, operation in path_item.items():
            if method not in ("post", "patch") or not isinstance(operation, dict):
                continue
            parameters = operation.setdefault("parameters", [])
            if not any(p.get("name") == HEADER for p in parameters):
                parameters.append(dict(IDEMPOTENCY_PARAMETER))
            responses = operation.setdefault("responses", {})
            for status, response in responses.items():
                if status.startswith("2"):
                    response.setdefault("headers", {})[REPLAYED_HEADER] = dict(
                        REPLAYED_RESPONSE_HEADER
                    )
            if "409" in responses:
                responses["409"]["description"] += f" Or {IN_PROGRESS}"
            else:
                responses["409"] = {"description": IN_PROGRESS, "content": error}
            responses["422"] = {"description": REUSED, "content": error}
            if "400" in responses:
                responses["400"]["description"] += " Or an invalid `Idempotency-Key`."
    return result
