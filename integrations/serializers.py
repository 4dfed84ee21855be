from rest_framework import serializers

from integrations.events import EVENT_TYPES
from integrations.models import WebhookSubscription
from integrations.webhooks import MAX_EVENT_TYPES, MAX_URL_LENGTH
from procurement_site.api.fields import StrictCharField

MAX_SEQUENCE = 2**63 - 1
# A URL's form: scheme, host (no credentials), optional port and path, printable ASCII only.
URL_PATTERN = r"^https?://[A-Za-z0-9.\-\[\]:]+(/[!-~]*)?$"


class EventFeedQuerySerializer(serializers.Serializer):
    """The query of ``GET /events``."""

    after = serializers.IntegerField(required=False, default=0, min_value=0, max_value=MAX_SEQUENCE)
    type = serializers.RegexField(r"^[a-z0-9_.]{1,120}$", required=False)
    limit = serializers.IntegerField(required=False, default=100, min_value=1, max_value=1000)


class CloudEventSerializer(serializers.Serializer):
    """A CloudEvents 1.0 event (structured JSON), with the `actor` extension attribute."""

    specversion = serializers.ChoiceField(choices=["1.0"])
    id = serializers.UUIDField()
    source = serializers.CharField()
    type = serializers.ChoiceField(choices=EVENT_TYPES)
    subject = serializers.CharField(help_text="The id of the entity the event is about.")
    time = serializers.DateTimeField()
    datacontenttype = serializers.ChoiceField(choices=["application/json"])
    sequence = serializers.IntegerField(min_value=1, help_text="The event's place in the feed.")
    actor = serializers.CharField(help_text="The username of who made the change.")
    data = serializers.DictField(help_text="The entity as the API returns it.")


class EventFeedSerializer(serializers.Serializer):
    results = CloudEventSerializer(many=True)
    next_after = serializers.IntegerField(
        min_value=0, help_text="The last sequence returned, or the `after` given: send it next."
    )


class WebhookSubscriptionCreateSerializer(serializers.Serializer):
    url = StrictCharField(
        max_length=MAX_URL_LENGTH,
        pattern=URL_PATTERN,
        trim_whitespace=False,
        help_text=(
            "An https URL whose host resolves to public addresses only (checked with DNS: a "
            "URL of this form can still be refused, 400 naming `url`)."
        ),
    )
    event_types = serializers.ListField(
        child=StrictCharField(max_length=120, pattern=r"^[a-z0-9_.]{1,120}$"),
        min_length=1,
        max_length=MAX_EVENT_TYPES,
        help_text="Type prefixes, e.g. `novatrek.procurement.purchase_order`.",
    )
    description = StrictCharField(
        required=False, allow_blank=True, max_length=500, default="", trim_whitespace=False
    )


class WebhookSubscriptionSerializer(serializers.ModelSerializer):
    class Meta:
        model = WebhookSubscription
        fields = [
            "subscription_id",
            "url",
            "event_types",
            "description",
            "active",
            "created_by",
            "created_at",
        ]
        read_only_fields = fields


class WebhookSubscriptionCreatedSerializer(WebhookSubscriptionSerializer):
    secret = serializers.CharField(
        read_only=True,
        help_text="`whsec_` + base64: verifies the deliveries' signatures. Shown this once.",
    )

    class Meta(WebhookSubscriptionSerializer.Meta):
        fields = [*WebhookSubscriptionSerializer.Meta.fields, "secret"]
        read_only_fields = fields
