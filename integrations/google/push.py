def on_appointment_changed(appointment, *, source, previous_staff_id=None) -> None:
    return None
