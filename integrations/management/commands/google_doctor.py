from django.core.management.base import BaseCommand

from integrations.doctor import diagnose
from integrations.models import GoogleConnection


class Command(BaseCommand):
    help = (
        "Check every Google connection (or one user's) and say what needs a person. Exit 1 if anything does."
    )

    def add_arguments(self, parser):
        parser.add_argument("--user", help="Only this user's connections (email).")
        parser.add_argument("--no-refresh", action="store_true", help="Do not try a token refresh.")

    def handle(self, *args, user=None, no_refresh=False, **options):
        connections = GoogleConnection.objects.exclude(state=GoogleConnection.State.UNLINKED).select_related(
            "user"
        )
        if user:
            connections = connections.filter(user__email__iexact=user)
        failing = 0
        for connection in connections.order_by("user__email", "pk"):
            report = diagnose(connection, try_refresh=not no_refresh)
            self.stdout.write("\n".join(report.lines))
            failing += report.needs_person
        if not connections.exists():
            self.stdout.write("No Google connections.")
        if failing:
            self.stdout.write(self.style.ERROR(f"{failing} connection(s) need a person."))
            raise SystemExit(1)
        self.stdout.write(self.style.SUCCESS("All connections can sync."))
