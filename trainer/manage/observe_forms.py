"""Forms of the observation page. The services check everything again."""

from __future__ import annotations

from flask_babel import LazyString, format_number
from flask_babel import lazy_gettext as _l
from wtforms import (
    Form,
    HiddenField,
    RadioField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import AnyOf, DataRequired, InputRequired, Length, Optional

from trainer import forms
from trainer.languages import gettext as _
from trainer.manage.observations import CHANNELS, MAX_NOTE
from trainer.models import GRADES


class ChooseForm(Form):
    """Step one, sent with GET: who was observed and against which checklist. Plain `Form`:
    it changes nothing, so it needs no CSRF token and its URL can be bookmarked."""

    person = SelectField(_l("Person"), validate_choice=False)
    checklist = SelectField(_l("Checklist"), validate_choice=False)

    def __init__(self, formdata=None, *, people, checklists, **kwargs):
        super().__init__(formdata, **kwargs)
        self.person.choices = [SelectChoice("", _("Choose a person"))] + [
            SelectChoice(str(p.id), p.name) for p in people
        ]
        self.checklist.choices = [SelectChoice("", _("Choose a checklist"))] + [
            SelectChoice(str(c.id), c.title) for c in checklists
        ]


class ObservationForm(forms.Form):
    """Step two: what was seen, the grade, a note. `seen` holds indexes into the points."""

    person = HiddenField(validators=[DataRequired()])
    checklist = HiddenField(validators=[DataRequired()])
    seen = SelectMultipleField(_l("What you saw"), coerce=int, validate_choice=False)
    channel = RadioField(
        _l("Where"),
        choices=[
            SelectChoice("floor", _l("On the floor")),
            SelectChoice("phone", _l("On the phone")),
        ],
        validate_choice=False,
        validators=[AnyOf(CHANNELS, message=_l("Choose on the floor or on the phone."))],
    )
    grade = RadioField(
        _l("Grade"),
        choices=[SelectChoice(g) for g in GRADES],
        validate_choice=False,
        validators=[
            InputRequired(message=_l("Choose a grade.")),
            AnyOf(
                GRADES,
                message=_l(
                    "Choose a grade from %(best)s to %(worst)s.", best=GRADES[0], worst=GRADES[-1]
                ),
            ),
        ],
    )
    note = TextAreaField(
        _l("Note (optional)"),
        validators=[
            Optional(),
            Length(
                max=MAX_NOTE,
                message=LazyString(
                    lambda: _(
                        "Keep the note under %(count)s characters.", count=format_number(MAX_NOTE)
                    )
                ),
            ),
        ],
    )
    token = HiddenField(validators=[DataRequired(), Length(max=64)])
    submit = SubmitField(_l("Record observation"))
