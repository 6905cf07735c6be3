from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from integrations.key_rotation import tokens_reencrypt, values_not_under_newest_key


class Command(BaseCommand):
    help = (
        "Re-encrypt every stored token under the newest TOKEN_ENCRYPTION_KEYS key, then check that the "
        "newest key alone opens them all (after which older keys can be removed)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--from-secret-key",
            action="store_true",
            help="Also open values written under the SECRET_KEY-derived key (first TOKEN_ENCRYPTION_KEYS).",
        )

    def handle(self, *args, from_secret_key=False, **options):
        if not settings.TOKEN_ENCRYPTION_KEYS:
            raise CommandError("Set TOKEN_ENCRYPTION_KEYS (newest key first) before rotating.")
        report = tokens_reencrypt(accept_secret_key=from_secret_key)
        self.stdout.write(f"Re-encrypted {report.rewritten} value(s) under the newest key.")
        left = values_not_under_newest_key()
        if report.unreadable or left:
            raise CommandError(
                f"{left} value(s) are not under the newest key ({report.unreadable} unreadable). "
                "Keep the old keys until this reports none; those connections may need a reconnect."
            )
        self.stdout.write(
            self.style.SUCCESS("Every token opens with the newest key: older keys can be removed.")
        )
