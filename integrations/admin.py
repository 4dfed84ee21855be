from django import forms
from django.contrib import admin, messages

from common.admin import ReadOnlyAdminMixin, adopt_saved
from common.errors import DomainError
from integrations import webhooks
from integrations.events import EVENT_TYPES
from integrations.models import Event, WebhookAttempt, WebhookDelivery, WebhookSubscription

MANAGE_WEBHOOKS = "integrations.manage_webhooks"


class ManageWebhooksOnly:
    """Webhooks are for holders of ``integrations.manage_webhooks`` (superusers hold it)."""

    def has_module_permission(self, request):
        return request.user.has_perm(MANAGE_WEBHOOKS)

    def has_view_permission(self, request, obj=None):
        return request.user.has_perm(MANAGE_WEBHOOKS)

    def has_add_permission(self, request, obj=None):
        return request.user.has_perm(MANAGE_WEBHOOKS)

    def has_change_permission(self, request, obj=None):
        return request.user.has_perm(MANAGE_WEBHOOKS)

    def has_delete_permission(self, request, obj=None):
        return request.user.has_perm(MANAGE_WEBHOOKS)


class SubscriptionForm(forms.ModelForm):
    event_types = forms.CharField(
        help_text="Type prefixes, comma-separated, e.g. novatrek.procurement.purchase_order. "
        f"Types: {', '.join(EVENT_TYPES)}."
    )

    class Meta:
        model = WebhookSubscription
        fields = ["url", "event_types", "description", "active"]

    def clean_url(self):
        """Only on adding: the URL of a subscription is read-only (not a field) afterwards."""
        url = self.cleaned_data["url"]
        try:
            webhooks.validate_url(url)
        except DomainError as exc:
            raise forms.ValidationError(exc.message) from None
        return url

    def clean_event_types(self):
        value = self.cleaned_data["event_types"]
        prefixes = value if isinstance(value, list) else value.split(",")
        prefixes = [part.strip() for part in prefixes if part.strip()]
        try:
            return webhooks.clean_event_types(prefixes)
        except DomainError as exc:
            raise forms.ValidationError(exc.message) from None


@admin.register(WebhookSubscription)
class WebhookSubscriptionAdmin(ManageWebhooksOnly, admin.ModelAdmin):
    form = SubscriptionForm
    list_display = ["url", "types", "active", "created_by", "created_at"]
    list_filter = ["active"]
    readonly_fields = ["subscription_id", "created_by", "created_at"]

    @admin.display(description="event types")
    def types(self, obj):
        return ", ".join(obj.event_types)

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        if obj is not None:
            form.base_fields["event_types"].initial = ", ".join(obj.event_types)
        return form

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return self.readonly_fields
        # A subscription's target is fixed: subscribe again for another URL.
        return [*self.readonly_fields, "url"]

    def save_model(self, request, obj, form, change):
        if change:
            subscription = webhooks.update_subscription(
                subscription_id=obj.pk,
                event_types=form.cleaned_data["event_types"],
                description=form.cleaned_data.get("description", ""),
                active=form.cleaned_data.get("active", False),
            )
            adopt_saved(obj, subscription)
            return
        try:
            subscription = webhooks.create_subscription(
                url=form.cleaned_data["url"],
                event_types=form.cleaned_data["event_types"],
                description=form.cleaned_data.get("description", ""),
                created_by=request.user.get_username(),
            )
        except DomainError as exc:
            # Re-checked by the service (DNS included); the form's clean already ran it.
            raise ValueError(exc.message) from exc
        adopt_saved(obj, subscription)
        messages.warning(
            request,
            f"Signing secret (shown once, keep it with the receiver): {subscription.secret}",
        )

    def get_changeform_initial_data(self, request):
        return {"active": True}


class AttemptInline(admin.TabularInline):
    model = WebhookAttempt
    extra = 0
    can_delete = False
    fields = ["number", "started_at", "duration_ms", "response_status", "succeeded", "error"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ManageWebhooksOnly, admin.ModelAdmin):
    list_display = [
        "event_type",
        "subscription_url",
        "status",
        "attempts_made",
        "next_attempt_at",
        "created_at",
    ]
    list_filter = ["status"]
    list_select_related = ["event", "subscription"]
    readonly_fields = [
        "delivery_id",
        "subscription",
        "event",
        "status",
        "attempts_made",
        "next_attempt_at",
        "created_at",
        "completed_at",
    ]
    fields = readonly_fields
    inlines = [AttemptInline]
    actions = ["redeliver"]

    @admin.display(description="event")
    def event_type(self, obj):
        return f"#{obj.event.sequence} {obj.event.type}"

    @admin.display(description="URL")
    def subscription_url(self, obj):
        return obj.subscription.url

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.action(description="Redeliver the selected deliveries' events")
    def redeliver(self, request, queryset):
        created = webhooks.redeliver(delivery_ids=list(queryset.values_list("pk", flat=True)))
        messages.success(request, f"{len(created)} deliveries queued.")

    def get_actions(self, request):
        actions = super().get_actions(request)
        if request.user.has_perm(MANAGE_WEBHOOKS):
            return actions
        return {}


@admin.register(Event)
class EventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["sequence", "type", "subject", "actor", "time"]
    list_filter = ["type"]
    search_fields = ["subject", "event_id"]
    readonly_fields = ["event_id", "sequence", "type", "source", "subject", "time", "actor", "data"]
    fields = readonly_fields
