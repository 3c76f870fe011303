"""Forms of the admin pages. They check what a browser can get wrong; the services check
everything again, and what needs the database (a taken address, say)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_babel import pgettext
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    DateField,
    EmailField,
    HiddenField,
    IntegerField,
    PasswordField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TelField,
    TextAreaField,
    TimeField,
)
from wtforms.validators import AnyOf, DataRequired, InputRequired, Length, Optional

from trainer.admin.people import PersonFields
from trainer.content.names import role_name
from trainer.forms import Form
from trainer.languages import LANGUAGES
from trainer.languages import gettext as _
from trainer.models import ROLES
from trainer.people.services import MAX_EMAIL, MAX_NAME
from trainer.people.zones import zone_choices


def role_labels() -> dict[str, str]:
    """Each role as the reader calls it ("Admin" the role, not the admin pages)."""
    return {
        "learner": pgettext("role", "Learner"),
        "manager": pgettext("role", "Manager"),
        "admin": pgettext("role", "Admin"),
    }


class PersonForm(Form):
    name = StringField(
        _l("Name"),
        validators=[
            DataRequired(message=_l("Write the person's name.")),
            Length(
                max=MAX_NAME,
                message=_l("Keep the name under %(count)d characters.", count=MAX_NAME),
            ),
        ],
    )
    email = EmailField(
        _l("Email (optional)"),
        validators=[Optional(), Length(max=MAX_EMAIL, message=_l("That address is too long."))],
    )
    employee_number = StringField(
        _l("Employee number (optional)"),
        validators=[
            Optional(),
            Length(max=32, message=_l("Keep it under %(count)d characters.", count=32)),
        ],
    )
    phone = TelField(
        _l("Mobile phone (optional)"),
        validators=[Optional(), Length(max=32, message=_l("That number is too long."))],
    )
    pin = PasswordField(
        _l("PIN for the branch tablet (optional)"),
        validators=[Optional()],
        render_kw={"inputmode": "numeric", "autocomplete": "off", "maxlength": 6},
    )
    role = SelectField(
        _l("Role"),
        invalid_choice_message=_l("Choose learner, manager or admin."),
    )
    job_role = SelectField(
        _l("Job role"), invalid_choice_message=_l("Choose a job role from the list.")
    )
    team = SelectField(_l("Team"), invalid_choice_message=_l("Choose a team from the list."))
    hire_date = DateField(
        _l("Hire date (optional)"),
        validators=[Optional()],
        format="%Y-%m-%d",
        invalid_value_message=_l("That is not a date. Pick one from the calendar."),
    )
    timezone = SelectField(
        _l("Time zone"), invalid_choice_message=_l("Choose a time zone from the list.")
    )
    language = SelectField(
        _l("Language"),
        choices=[SelectChoice("", _l("The usual one here"))]
        + [SelectChoice(code, name) for code, name in LANGUAGES.items()],
        invalid_choice_message=_l("Choose a language from the list."),
        validators=[Optional()],  # left out by a script: the usual one, or theirs unchanged
    )
    reminder_time = TimeField(
        _l("Daily reminder time"),
        validators=[InputRequired(message=_l("Choose the time of the reminder."))],
        format=["%H:%M", "%H:%M:%S"],  # some browsers send seconds
    )
    submit = SubmitField(_l("Save"))

    def __init__(self, *args, job_roles, teams, zones: list[str], keep_zone=None, **kwargs):
        """`keep_zone`: the person's stored zone, offered even when it is not in `zones`."""
        super().__init__(*args, **kwargs)
        self.job_role.choices = [SelectChoice("", _("None"))] + [
            SelectChoice(j.key, role_name(j)) for j in job_roles
        ]
        self.team.choices = [SelectChoice("", _("No team"))] + [
            SelectChoice(str(t.id), t.name) for t in teams
        ]
        self.timezone.choices = zone_choices(zones, keep_zone)
        labels = role_labels()
        self.role.choices = [SelectChoice(role, labels[role]) for role in ROLES]

    def fields(self) -> PersonFields:
        return PersonFields(
            name=self.name.data or "",
            email=self.email.data or "",
            employee_number=self.employee_number.data or "",
            phone=self.phone.data or "",
            pin=self.pin.data or "",
            role=self.role.data,
            job_role=self.job_role.data or None,
            team_id=int(self.team.data) if self.team.data else None,
            hire_date=self.hire_date.data,
            timezone=self.timezone.data,
            reminder_time=self.reminder_time.data,
            language=self.language.data or None,
        )


class ActionForm(Form):
    """A button that changes something (deactivate, send a link, delete): only the CSRF token."""


class TeamForm(Form):
    name = StringField(
        _l("Team name"),
        validators=[
            DataRequired(message=_l("Write a team name.")),
            Length(
                max=MAX_NAME,
                message=_l("Keep the name under %(count)d characters.", count=MAX_NAME),
            ),
        ],
    )
    submit = SubmitField(_l("Save"))


class ManagersForm(Form):
    managers = SelectMultipleField(
        _l("Managers"), coerce=int, invalid_choice_message=_l("Choose managers from the list.")
    )
    submit = SubmitField(_l("Save managers"))

    def __init__(self, *args, people, **kwargs):
        super().__init__(*args, **kwargs)
        self.managers.choices = [SelectChoice(p.id, p.name) for p in people]


class UploadForm(Form):
    file = FileField(_l("CSV file"), validators=[FileRequired(message=_l("Choose a CSV file."))])
    submit = SubmitField(_l("Check the file"))


class ConfirmImportForm(Form):
    """The signed rows from the preview, how many people the admin saw, and their choice."""

    payload = HiddenField(validators=[DataRequired()])
    expected = IntegerField(validators=[InputRequired()])
    choice = StringField(validators=[AnyOf(("all", "valid"))])


class ChecklistForm(Form):
    title = StringField(
        _l("Title"),
        validators=[
            DataRequired(message=_l("Write a title.")),
            Length(max=200, message=_l("Keep the title under %(count)d characters.", count=200)),
        ],
    )
    key = StringField(
        _l("Short name for links"),
        validators=[DataRequired(message=_l("Write a short name like bar-welcome."))],
    )
    skill = SelectField(
        _l("Skill"),
        validators=[DataRequired(message=_l("Choose the skill it counts towards."))],
        invalid_choice_message=_l("Choose a skill from the list."),
    )
    # Ticked boxes; the service checks them against the job roles.
    roles = SelectMultipleField(_l("Job roles"), validate_choice=False)
    points = TextAreaField(
        _l("What to look for, one point a line"),
        validators=[DataRequired(message=_l("Write the points to look for, one a line."))],
    )
    submit = SubmitField(_l("Add checklist"))

    def __init__(self, *args, skills: list[tuple[str, str]], job_roles, **kwargs):
        """`skills`: (skill, label) pairs to pick from."""
        super().__init__(*args, **kwargs)
        self.skill.choices = [SelectChoice("", _("Choose a skill"))] + [
            SelectChoice(skill, label) for skill, label in skills
        ]
        self.roles.choices = [SelectChoice(j.key, role_name(j)) for j in job_roles]
