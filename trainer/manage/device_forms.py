"""Forms of the manager's pages for team tablets and sign-in cards. The services check again."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import SelectField, SelectMultipleField, StringField, SubmitField
from wtforms.validators import DataRequired, Length
from wtforms.widgets import CheckboxInput, ListWidget

from trainer.auth.device import MAX_LABEL


class DeviceForm(FlaskForm):
    team = SelectField(
        "Team",
        coerce=int,
        invalid_choice_message="Choose one of your teams.",
        invalid_value_message="Choose one of your teams.",
    )
    name = StringField(
        "Name of the device",
        description="How you will tell it apart in this list, like “Counter tablet”.",
        validators=[
            DataRequired(message="Give the device a name, like “Counter tablet”."),
            Length(max=MAX_LABEL, message=f"Keep the name under {MAX_LABEL} characters."),
        ],
    )
    submit = SubmitField("Make an enrolment link")


class RevokeForm(FlaskForm):
    submit = SubmitField("Revoke")


class CardsForm(FlaskForm):
    """The people to print cards for, as checkboxes. Someone who meanwhile signed in is left
    out by the service, not refused here."""

    people = SelectMultipleField(
        "People",
        coerce=int,
        validate_choice=False,
        invalid_value_message="Choose people from the list.",
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
        validators=[DataRequired(message="Choose at least one person.")],
    )
    submit = SubmitField("Print cards")
