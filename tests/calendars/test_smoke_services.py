import pytest

from calendars.services import BookingError
from tests.conftest import local


def test_double_booking_is_refused_naming_the_conflict(bob, book):
    p = bob.practice
    book(bob, local(p, 2026, 11, 23, 9), local(p, 2026, 11, 23, 10), title="Filling")
    with pytest.raises(BookingError) as info:
        book(bob, local(p, 2026, 11, 23, 9, 30), local(p, 2026, 11, 23, 10, 30))
    assert "Filling" in str(info.value) and "09:00–10:00" in str(info.value)
