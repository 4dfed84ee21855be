"""API tokens in the admin: every staff user sees and revokes their own tokens; a superuser
everyone's. Keys are never shown (only their hash is stored); tokens are issued with
``manage.py create_api_token``. Nothing here edits or deletes a token: revoking keeps the row."""

from django.contrib import admin, messages

from accounts import selectors, services
from accounts.models import ApiToken
from common.admin import ReadOnlyAdminMixin
from common.errors import DomainError


@admin.register(ApiToken)
class ApiTokenAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["name", "user", "key_shown", "state", "created_at", "expires_at", "revoked_at"]
    list_filter = ["revoked_at", "expires_at"]
    search_fields = ["name", "user__username", "key_prefix"]
    fields = [
        "token_id",
        "name",
        "user",
        "key_shown",
        "state",
        "created_at",
        "expires_at",
        "revoked_at",
    ]
    readonly_fields = fields
    actions = ["revoke"]
    list_select_related = ["user"]

    def get_queryset(self, request):
        return selectors.api_tokens_visible_to(user=request.user)

    def _is_staff(self, request):
        return request.user.is_active and request.user.is_staff

    def has_module_permission(self, request):
        return self._is_staff(request)

    def has_view_permission(self, request, obj=None):
        if not self._is_staff(request):
            return False
        return obj is None or request.user.is_superuser or obj.user_id == request.user.pk

    def has_revoke_permission(self, request):
        return self._is_staff(request)

    @admin.display(description="key")
    def key_shown(self, obj):
        return f"{obj.key_prefix}…"

    @admin.display(description="state")
    def state(self, obj):
        return obj.state

    @admin.action(description="Revoke selected API tokens", permissions=["revoke"])
    def revoke(self, request, queryset):
        try:
            revoked = services.revoke_api_tokens(
                token_ids=queryset.values_list("pk", flat=True), by_user=request.user
            )
        except DomainError as error:
            self.message_user(request, error.message, messages.ERROR)
            return
        self.message_user(request, f"Revoked {revoked} API token(s).", messages.SUCCESS)
