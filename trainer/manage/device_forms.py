"""Forms of the manager's pages for team tablets and sign-in cards. The services check again."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import SelectField, SelectMultipleField, StringField, SubmitField
from wtforms.validators import DataRequired, Length
from wtforms.widgets import CheckboxInput, ListWidget

from trainer.auth.device import MAX_LABEL
from trainer.forms import Form


class DeviceForm(Form):
    team = SelectField(
        _l("Team"),
        coerce=int,
        invalid_choice_message=_l("Choose one of your teams."),
        invalid_value_message=_l("Choose one of your teams."),
    )
    name = StringField(
        _l("Name of the device"),
        description=_l("How you will tell it apart in this list, like “Counter tablet”."),
        validators=[
            DataRequired(message=_l("Give the device a name, like “Counter tablet”.")),
            Length(
                max=MAX_LABEL,
                message=_l("Keep the name under %(count)d characters.", count=MAX_LABEL),
            ),
        ],
    )
    submit = SubmitField(_l("Make an enrolment link"))


class RevokeForm(Form):
    submit = SubmitField(_l("Revoke"))


class CardsForm(Form):
    """The people to print cards for, as checkboxes. Someone who meanwhile signed in is left
    out by the service, not refused here."""

    people = SelectMultipleField(
        _l("People"),
        coerce=int,
        validate_choice=False,
        invalid_value_message=_l("Choose people from the list."),
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
        validators=[DataRequired(message=_l("Choose at least one person."))],
    )
    submit = SubmitField(_l("Print cards"))
