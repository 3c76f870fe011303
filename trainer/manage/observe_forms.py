"""Forms of the observation page. The services check everything again."""

from __future__ import annotations

from flask_wtf import FlaskForm
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

from trainer.manage.observations import CHANNELS, MAX_NOTE
from trainer.models import GRADES


class ChooseForm(Form):
    """Step one, sent with GET: who was observed and against which checklist. Plain `Form`:
    it changes nothing, so it needs no CSRF token and its URL can be bookmarked."""

    person = SelectField("Person", validate_choice=False)
    checklist = SelectField("Checklist", validate_choice=False)

    def __init__(self, formdata=None, *, people, checklists, **kwargs):
        super().__init__(formdata, **kwargs)
        self.person.choices = [SelectChoice("", "Choose a person")] + [
            SelectChoice(str(p.id), p.name) for p in people
        ]
        self.checklist.choices = [SelectChoice("", "Choose a checklist")] + [
            SelectChoice(str(c.id), c.title) for c in checklists
        ]


class ObservationForm(FlaskForm):
    """Step two: what was seen, the grade, a note. `seen` holds indexes into the points."""

    person = HiddenField(validators=[DataRequired()])
    checklist = HiddenField(validators=[DataRequired()])
    seen = SelectMultipleField("What you saw", coerce=int, validate_choice=False)
    channel = RadioField(
        "Where",
        choices=[SelectChoice("floor", "On the floor"), SelectChoice("phone", "On the phone")],
        validate_choice=False,
        validators=[AnyOf(CHANNELS, message="Choose on the floor or on the phone.")],
    )
    grade = RadioField(
        "Grade",
        choices=[SelectChoice(g) for g in GRADES],
        validate_choice=False,
        validators=[
            InputRequired(message="Choose a grade."),
            AnyOf(GRADES, message="Choose a grade from A to F."),
        ],
    )
    note = TextAreaField(
        "Note (optional)",
        validators=[
            Optional(),
            Length(max=MAX_NOTE, message=f"Keep the note under {MAX_NOTE:,} characters."),
        ],
    )
    token = HiddenField(validators=[DataRequired(), Length(max=64)])
    submit = SubmitField("Record observation")
