"""The statements every authenticated request may send, written out (the ORM would compile
them anew each time). Pure, no Django import: the benchmark's floor (``bench/floor.py``) sends
them too."""

# A user's own permissions and their groups', as ``app_label, codename`` (what Django's backend
# reads in two queries). Written out: a write checks permissions on every request.
PERMISSIONS_SQL = (
    'SELECT "django_content_type"."app_label", "auth_permission"."codename" '
    'FROM "auth_permission" INNER JOIN "django_content_type" '
    'ON ("auth_permission"."content_type_id" = "django_content_type"."id") '
    'INNER JOIN "auth_user_user_permissions" '
    'ON ("auth_permission"."id" = "auth_user_user_permissions"."permission_id") '
    'WHERE "auth_user_user_permissions"."user_id" = %s '
    'UNION SELECT "django_content_type"."app_label", "auth_permission"."codename" '
    'FROM "auth_permission" INNER JOIN "django_content_type" '
    'ON ("auth_permission"."content_type_id" = "django_content_type"."id") '
    'INNER JOIN "auth_group_permissions" '
    'ON ("auth_permission"."id" = "auth_group_permissions"."permission_id") '
    'INNER JOIN "auth_user_groups" '
    'ON ("auth_group_permissions"."group_id" = "auth_user_groups"."group_id") '
    'WHERE "auth_user_groups"."user_id" = %s'
)

# An API token and its user, by the key's hash: the columns of ``ApiToken`` then of Django's
# ``User``, in the models' order (``accounts.selectors.api_token_for_key`` builds both from a row).
TOKEN_COLUMNS = (
    "token_id",
    "user_id",
    "name",
    "key_hash",
    "key_prefix",
    "created_at",
    "expires_at",
    "revoked_at",
)
USER_COLUMNS = (
    "id",
    "password",
    "last_login",
    "is_superuser",
    "username",
    "first_name",
    "last_name",
    "email",
    "is_staff",
    "is_active",
    "date_joined",
)
TOKEN_WITH_USER_SQL = (
    "SELECT "
    + ", ".join(
        [
            *(f'"api_tokens"."{name}"' for name in TOKEN_COLUMNS),
            *(f'"auth_user"."{name}"' for name in USER_COLUMNS),
        ]
    )
    + ' FROM "api_tokens" INNER JOIN "auth_user" ON ("api_tokens"."user_id" = "auth_user"."id") '
    'WHERE "api_tokens"."key_hash" = %s'
)
