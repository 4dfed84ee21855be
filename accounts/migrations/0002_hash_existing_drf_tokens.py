"""Move the tokens of DRF's ``rest_framework.authtoken`` (keys stored in plain text) into
``api_tokens``, hashed: each keeps authenticating with the same key. Then empty DRF's table, so
that no dump or backup taken from now on holds a usable key. The table itself is left (empty):
its app is no longer installed, and dropping it would break a rollback to the previous release.

Not reversible: the keys are gone (a rollback has to issue new tokens)."""

import hashlib

from django.db import migrations

DRF_TABLE = "authtoken_token"


def hash_existing_drf_tokens(apps, schema_editor):
    connection = schema_editor.connection
    if DRF_TABLE not in connection.introspection.table_names():
        return
    ApiToken = apps.get_model("accounts", "ApiToken")
    table = connection.ops.quote_name(DRF_TABLE)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT key, user_id, created FROM {table} ORDER BY created, key")
        rows = cursor.fetchall()
        ApiToken.objects.bulk_create(
            [
                ApiToken(
                    user_id=user_id,
                    name="Token from before hashing",
                    key_hash=hashlib.sha256(key.encode()).hexdigest(),
                    key_prefix=key[:8],
                    created_at=created,
                )
                for key, user_id, created in rows
            ],
            batch_size=1000,
        )
        cursor.execute(f"DELETE FROM {table}")


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_api_tokens_and_write_counts"),
    ]

    operations = [
        migrations.RunPython(hash_existing_drf_tokens, migrations.RunPython.noop, elidable=False),
    ]
