from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, IntegerField, SelectMultipleField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, StopValidation
from wtforms.widgets import HiddenInput

from trainer.forms import Form
from trainer.languages import gettext as _


class AnswerForm(Form):
    """One quiz item. `choice` holds indexes into the item's choices."""

    choice = SelectMultipleField(_l("Your answer"), coerce=int, validate_choice=False)
    token = HiddenField(validators=[DataRequired(), Length(max=64)])
    shown = HiddenField()
    submit = SubmitField(_l("Check my answer"))


class RolePlayForm(Form):
    """What the learner would say, written; or nothing written, said out loud (`aloud`)."""

    text = TextAreaField(
        _l("What would you say?"),
        validators=[Length(max=4000, message=_l("Keep it under 4,000 characters."))],
    )
    token = HiddenField(validators=[DataRequired(), Length(max=64)])
    submit = SubmitField(_l("Show me the model answer"))
    aloud = SubmitField(_l("I said it out loud"))

    def validate_text(self, field):
        if not self.aloud.data and not (field.data or "").strip():
            raise StopValidation(_("Write what you would say to the customer."))


class RubricForm(Form):
    ticked = SelectMultipleField(_l("What I did"), coerce=int, validate_choice=False)
    submit = SubmitField(_l("Save and continue"))


class ConversationForm(Form):
    """One turn of a conversation: the line said is the button pressed (`choice`), at step
    `step` of run `run` (empty before the first choice)."""

    choice = IntegerField(validators=[InputRequired(message=_l("Choose what you would say."))])
    token = HiddenField(validators=[DataRequired(), Length(max=64)])
    shown = HiddenField()
    run = HiddenField()
    step = IntegerField(widget=HiddenInput(), validators=[InputRequired()])
