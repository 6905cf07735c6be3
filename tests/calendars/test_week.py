"""The week grid's layout: pure data, no database."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from calendars.busy import BusyInterval
from calendars.week import build_week, week_start

NY = ZoneInfo("America/New_York")
OFFICE = {day: [(time(9), time(17))] for day in range(5)}


@dataclass
class Appt:
    start: datetime
    end: datetime
    title: str = "Check-up"


def ny(*args: int) -> datetime:
    return datetime(*args, tzinfo=NY)


def grid_for(appointments=(), busy=(), working_hours=OFFICE, start=date(2026, 11, 23), **kw):
    return build_week(
        appointments=appointments, busy=busy, working_hours=working_hours, start_date=start, zone=NY, **kw
    )


def test_week_has_seven_day_columns_from_the_start_date():
    grid = grid_for()
    assert [d.date for d in grid.days] == [date(2026, 11, 23 + i) for i in range(7)]
    assert (grid.first_hour, grid.last_hour) == (7, 20)
    assert grid.total_minutes == 13 * 60


def test_appointment_is_positioned_by_minutes_from_the_first_hour():
    grid = grid_for([Appt(ny(2026, 11, 24, 9, 30), ny(2026, 11, 24, 10, 15))])
    tuesday = grid.days[1]
    (block,) = tuesday.appointments
    assert (block.top, block.height) == (150, 45)
    assert block.time_label == "09:30–10:15"
    assert all(not d.appointments for i, d in enumerate(grid.days) if i != 1)


def test_working_hours_are_bands_and_weekends_have_none():
    grid = grid_for()
    assert [(b.top, b.height) for b in grid.days[0].working] == [(120, 480)]
    assert grid.days[5].working == [] and grid.days[6].working == []


def test_member_without_working_hours_is_drawn_bookable_all_day():
    grid = grid_for(working_hours={})
    assert all([(b.top, b.height) for b in d.working] == [(0, 13 * 60)] for d in grid.days)


def test_span_widens_to_an_early_appointment_and_late_working_hours():
    hours = {0: [(time(6, 30), time(21, 15))]}
    grid = grid_for([Appt(ny(2026, 11, 25, 5, 0), ny(2026, 11, 25, 5, 30))], working_hours=hours)
    assert (grid.first_hour, grid.last_hour) == (5, 22)
    assert grid.days[2].appointments[0].top == 0


def test_busy_interval_is_a_block_that_keeps_its_source():
    busy = [BusyInterval(ny(2026, 11, 23, 12), ny(2026, 11, 23, 13), source="Personal", label="Lunch")]
    grid = grid_for(busy=busy)
    (block,) = grid.days[0].busy
    assert (block.top, block.height) == (300, 60)
    assert block.item.source == "Personal"


def test_appointment_over_midnight_is_split_across_two_days():
    grid = grid_for([Appt(ny(2026, 11, 23, 19), ny(2026, 11, 24, 8))])
    monday, tuesday = grid.days[0], grid.days[1]
    assert grid.last_hour == 24 and grid.first_hour == 0
    assert (monday.appointments[0].top, monday.appointments[0].height) == (19 * 60, 5 * 60)
    assert monday.appointments[0].continues_after
    assert (tuesday.appointments[0].top, tuesday.appointments[0].height) == (0, 8 * 60)
    assert tuesday.appointments[0].continues_before


def test_overlapping_appointments_share_the_column_side_by_side():
    grid = grid_for(
        [
            Appt(ny(2026, 11, 23, 9), ny(2026, 11, 23, 10)),
            Appt(ny(2026, 11, 23, 9, 30), ny(2026, 11, 23, 10, 30)),
            Appt(ny(2026, 11, 23, 11), ny(2026, 11, 23, 12)),
        ]
    )
    first, second, alone = grid.days[0].appointments
    assert (first.lane, first.lanes, second.lane, second.lanes) == (0, 2, 1, 2)
    assert (alone.lane, alone.lanes) == (0, 1)


def test_spring_forward_week_draws_nine_oclock_at_nine_on_both_sides():
    # Clocks go forward on Sunday 2026-03-08 at 02:00 in New York.
    appointments = [Appt(ny(2026, 3, d, 9), ny(2026, 3, d, 10)) for d in (7, 8, 9)]
    grid = grid_for(appointments, start=date(2026, 3, 2))
    saturday, sunday, monday = (
        grid.days[5],
        grid.days[6],
        build_week(
            appointments=appointments, busy=[], working_hours=OFFICE, start_date=date(2026, 3, 9), zone=NY
        ).days[0],
    )
    for day in (saturday, sunday, monday):
        (block,) = day.appointments
        assert (block.top, block.height, block.time_label) == (120, 60, "09:00–10:00")
    assert sunday.hours_long == 23 and sunday.clock_change == "Clocks go forward"


def test_spring_forward_day_marks_the_skipped_hour_as_not_bookable():
    grid = grid_for(start=date(2026, 3, 8), days=1, default_span=(0, 24))
    missing = {slot.label for slot in grid.days[0].slots if not slot.exists}
    assert missing == {"02:00", "02:30"}


def test_fall_back_week_draws_nine_oclock_at_nine_on_both_sides():
    # Clocks go back on Sunday 2026-11-01 at 02:00 in New York: a 25-hour day.
    appointments = [
        Appt(ny(2026, 10, 31, 9), ny(2026, 10, 31, 10)),
        Appt(ny(2026, 11, 1, 9), ny(2026, 11, 1, 10)),
    ]
    grid = grid_for(appointments, start=date(2026, 10, 26))
    saturday, sunday = grid.days[5], grid.days[6]
    assert sunday.hours_long == 25 and sunday.clock_change == "Clocks go back"
    for day in (saturday, sunday):
        (block,) = day.appointments
        assert (block.top, block.height) == (120, 60)


def test_appointment_in_the_repeated_hour_keeps_its_length():
    # 01:30 EDT to 01:30 EST is one real hour on the same wall-clock minute.
    start = datetime(2026, 11, 1, 1, 30, tzinfo=NY, fold=0)
    end = datetime(2026, 11, 1, 1, 30, tzinfo=NY, fold=1)
    grid = grid_for([Appt(start, end)], start=date(2026, 11, 1), days=1, default_span=(0, 24))
    (block,) = grid.days[0].appointments
    assert (block.top, block.height) == (90, 60)


def test_today_is_flagged_and_week_start_is_monday():
    grid = grid_for(today=date(2026, 11, 25))
    assert [d.is_today for d in grid.days] == [False, False, True, False, False, False, False]
    assert week_start(date(2026, 11, 29)) == date(2026, 11, 23)
    assert week_start(date(2026, 11, 23)) == date(2026, 11, 23)
