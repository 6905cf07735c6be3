"""Email verification became mandatory. Every account so far was created by an invitation (the
set-password link went to that address) or by an operator, so its current address counts as
verified: give each user a verified primary EmailAddress for ``User.email``."""

from django.db import migrations


def verify_current_emails(apps, schema_editor):
    User = apps.get_model("accounts", "User")
    EmailAddress = apps.get_model("account", "EmailAddress")
    for user in User.objects.exclude(email="").iterator():
        email = user.email.lower()
        if EmailAddress.objects.filter(email__iexact=email, verified=True).exclude(user=user).exists():
            continue  # someone else proved this address; leave it to them
        address = EmailAddress.objects.filter(user=user, email__iexact=email).first()
        if address is None:
            EmailAddress.objects.filter(user=user, primary=True).update(primary=False)
            EmailAddress.objects.create(user=user, email=email, primary=True, verified=True)
        else:
            EmailAddress.objects.filter(user=user, primary=True).exclude(pk=address.pk).update(primary=False)
            address.primary = address.verified = True
            address.save(update_fields=["primary", "verified"])


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0003_cache_table"),
        ("account", "0009_emailaddress_unique_primary_email"),
    ]

    operations = [migrations.RunPython(verify_current_emails, migrations.RunPython.noop)]
