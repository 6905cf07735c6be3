"""Practice.google_deletion: what a deletion in Google does to the appointment.

New practices put the event back and tell the front desk (the safer choice for patients).
Practices that existed before keep today's behaviour (the deletion cancels the appointment),
so nothing changes under staff who cancel by deleting in Google; an admin can switch on
Settings → Sync (docs/SYNC.md).
"""

from django.db import migrations, models

CHOICES = [
    ("put_back", "A deletion in Google is undone: the event is put back, the front desk told"),
    ("cancel", "A deletion in Google cancels the appointment"),
]


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0006_practice_online_booking"),
    ]

    operations = [
        # Existing rows get "cancel" (today's behaviour) ...
        migrations.AddField(
            model_name="practice",
            name="google_deletion",
            field=models.CharField(
                choices=CHOICES, default="cancel", max_length=8, verbose_name="when an event is deleted in Google"
            ),
        ),
        # ... and every practice created from now on "put_back".
        migrations.AlterField(
            model_name="practice",
            name="google_deletion",
            field=models.CharField(
                choices=CHOICES, default="put_back", max_length=8, verbose_name="when an event is deleted in Google"
            ),
        ),
    ]
