"""Forms of the manager's join-code page."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, IntegerField, SelectChoice, SelectField, SubmitField
from wtforms.validators import InputRequired, NumberRange

from trainer.content.names import role_name
from trainer.forms import Form
from trainer.people.joining import DEFAULT_DAYS, DEFAULT_USES, MAX_DAYS, MAX_USES


class JoinCodeForm(Form):
    team = SelectField(_l("Team"), invalid_choice_message=_l("Choose one of your teams."))
    job_role = SelectField(
        _l("Newcomers start on the path of"), invalid_choice_message=_l("Choose a job role.")
    )
    days = IntegerField(
        _l("Works for (days)"),
        default=DEFAULT_DAYS,
        validators=[
            InputRequired(message=_l("Give a number of days.")),
            NumberRange(1, MAX_DAYS, message=_l("Between 1 and %(most)d days.", most=MAX_DAYS)),
        ],
    )
    uses = IntegerField(
        _l("For how many people"),
        default=DEFAULT_USES,
        validators=[
            InputRequired(message=_l("Give a number of people.")),
            NumberRange(1, MAX_USES, message=_l("Between 1 and %(most)d people.", most=MAX_USES)),
        ],
    )
    submit = SubmitField(_l("Make a code"))

    def __init__(self, *args, teams, job_roles, **kwargs):
        super().__init__(*args, **kwargs)
        self.team.choices = [SelectChoice(str(t.id), t.name) for t in teams]
        self.job_role.choices = [SelectChoice("", _l("The team's usual job role"))] + [
            SelectChoice(j.key, role_name(j)) for j in job_roles
        ]


class JoinSettingsForm(Form):
    need_employee_number = BooleanField(_l("Newcomers must give their employee number"))
    need_approval = BooleanField(_l("A manager approves each newcomer before their first lesson"))
    submit = SubmitField(_l("Save"))


class ButtonForm(Form):
    """A button that changes one thing (revoke, approve, decline): only the CSRF token."""
