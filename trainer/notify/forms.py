"""The "Reminders" form of the Account page. It checks what a browser can get wrong; the
service (`change_reminder_settings`) checks the rest."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    RadioField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    SubmitField,
    TimeField,
)
from wtforms.validators import InputRequired

from trainer.forms import Form
from trainer.notify.services import WEEKDAYS, ChannelChoice
from trainer.people.zones import zone_choices


class RemindersForm(Form):
    on = BooleanField(_l("Remind me on days my refresher is waiting"))
    # Checked by the service: the choices depend on what reaches the person.
    channel = RadioField(_l("How to reach you"), validate_choice=False)
    reminder_time = TimeField(
        _l("Time of day"),
        validators=[InputRequired(message=_l("Give a time like 18:00."))],
        format=["%H:%M", "%H:%M:%S"],  # some browsers send seconds
    )
    timezone = SelectField(_l("Time zone"), validate_choice=False)
    days_off = SelectMultipleField(
        _l("Days off"),
        choices=[SelectChoice(str(n), name) for n, name in enumerate(WEEKDAYS, start=1)],
        validate_choice=False,
    )
    submit = SubmitField(_l("Save reminder settings"))

    def __init__(self, *args, choices: list[ChannelChoice], zones: list[str], zone: str, **kw):
        super().__init__(*args, **kw)
        self.channel.choices = [SelectChoice(c.key, c.label) for c in choices]
        self.timezone.choices = zone_choices(zones, zone)

    def days(self) -> list[int]:
        """The days ticked, as ISO weekdays; anything else becomes 0, which the service refuses."""
        return [int(day) if day.isdigit() and len(day) == 1 else 0 for day in self.days_off.data]
