"""Forms of the manager's join-code page."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, SelectChoice, SelectField, SubmitField
from wtforms.validators import InputRequired, NumberRange

from trainer.people.joining import DEFAULT_DAYS, DEFAULT_USES, MAX_DAYS, MAX_USES


class JoinCodeForm(FlaskForm):
    team = SelectField("Team", invalid_choice_message="Choose one of your teams.")
    job_role = SelectField(
        "Newcomers start on the path of", invalid_choice_message="Choose a job role."
    )
    days = IntegerField(
        "Works for (days)",
        default=DEFAULT_DAYS,
        validators=[
            InputRequired(message="Give a number of days."),
            NumberRange(1, MAX_DAYS, message=f"Between 1 and {MAX_DAYS} days."),
        ],
    )
    uses = IntegerField(
        "For how many people",
        default=DEFAULT_USES,
        validators=[
            InputRequired(message="Give a number of people."),
            NumberRange(1, MAX_USES, message=f"Between 1 and {MAX_USES:,} people."),
        ],
    )
    submit = SubmitField("Make a code")

    def __init__(self, *args, teams, job_roles, **kwargs):
        super().__init__(*args, **kwargs)
        self.team.choices = [SelectChoice(str(t.id), t.name) for t in teams]
        self.job_role.choices = [SelectChoice("", "The team's usual job role")] + [
            SelectChoice(j.key, j.name) for j in job_roles
        ]


class JoinSettingsForm(FlaskForm):
    need_employee_number = BooleanField("Newcomers must give their employee number")
    need_approval = BooleanField("A manager approves each newcomer before their first lesson")
    submit = SubmitField("Save")


class ButtonForm(FlaskForm):
    """A button that changes one thing (revoke, approve, decline): only the CSRF token."""
