import json

from django.core.management.base import BaseCommand

from integrations.doctor import diagnose
from integrations.models import GoogleConnection


class Command(BaseCommand):
    help = (
        "Check every Google connection (or one user's) and say what needs a person. Exit 1 if anything does. "
        "--json prints one JSON document for scripts instead."
    )

    def add_arguments(self, parser):
        parser.add_argument("--user", help="Only this user's connections (email).")
        parser.add_argument("--no-refresh", action="store_true", help="Do not try a token refresh.")
        parser.add_argument("--json", action="store_true", dest="as_json", help="Print one JSON document.")

    def handle(self, *args, user=None, no_refresh=False, as_json=False, **options):
        connections = GoogleConnection.objects.exclude(state=GoogleConnection.State.UNLINKED).select_related(
            "user"
        )
        if user:
            connections = connections.filter(user__email__iexact=user)
        reports = [diagnose(c, try_refresh=not no_refresh) for c in connections.order_by("user__email", "pk")]
        failing = sum(report.needs_person for report in reports)
        if as_json:
            self._print_json(reports, failing)
        else:
            self._print_text(reports, failing)
        if failing:
            raise SystemExit(1)

    def _print_json(self, reports, failing: int) -> None:
        document = {"connections": [report.facts for report in reports], "needs_person": failing}
        self.stdout.write(json.dumps(document, indent=2, sort_keys=True))

    def _print_text(self, reports, failing: int) -> None:
        for report in reports:
            self.stdout.write("\n".join(report.lines))
        if not reports:
            self.stdout.write("No Google connections.")
        if failing:
            self.stdout.write(self.style.ERROR(f"{failing} connection(s) need a person."))
        else:
            self.stdout.write(self.style.SUCCESS("All connections can sync."))
