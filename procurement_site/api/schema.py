from drf_spectacular.utils import OpenApiResponse

from procurement_site.api.errors import ErrorSerializer

ERROR_DESCRIPTIONS = {
    400: "Malformed JSON, a missing or invalid field, a wrong type.",
    401: "No or bad credentials.",
    403: "Authenticated, but lacking the permission.",
    404: "Unknown id (or not a UUID).",
    409: "Conflicts with the current state.",
    412: "`If-Match` given and not matching the current `ETag`.",
    503: "The database is unavailable.",
}


def error_responses(*statuses):
    """The error responses of an operation, each with the one error body schema."""
    return {
        code: OpenApiResponse(response=ErrorSerializer, description=ERROR_DESCRIPTIONS[code])
        for code in statuses
    }
