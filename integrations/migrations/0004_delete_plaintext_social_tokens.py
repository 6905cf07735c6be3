"""Delete every row of allauth's socialaccount_socialtoken: plaintext Google tokens (issue 10).

Until SOCIALACCOUNT_STORE_TOKENS was turned off, a Google sign-in (then possible) or a refused
connect left access and refresh tokens there in plaintext. Connections keep their own
encrypted copies, so nothing that works needs these rows. Not reversible: the rows are gone.
"""

from django.db import migrations


def delete_plaintext_tokens(apps, schema_editor):
    apps.get_model("socialaccount", "SocialToken").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [
        ("integrations", "0003_busy_block_once_per_event"),
        ("socialaccount", "0006_alter_socialaccount_extra_data"),
    ]

    operations = [migrations.RunPython(delete_plaintext_tokens, migrations.RunPython.noop, elidable=True)]
