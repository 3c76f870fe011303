from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    PasswordField,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
    SubmitField,
    TelField,
)
from wtforms.validators import DataRequired, EqualTo, Length, Regexp, ValidationError

from trainer.auth.passwords import password_problem
from trainer.auth.pins import pin_problem
from trainer.forms import Form
from trainer.languages import LANGUAGES
from trainer.languages import gettext as _


def new_password(_form, field) -> None:
    """The rules for a password someone chooses (`passwords.password_problem`)."""
    problem = password_problem(field.data)
    if problem:
        raise ValidationError(problem)


class LoginForm(Form):
    # Named "email" as it always was; an employee number or a phone number will do as well.
    email = StringField(
        _l("Email, phone or employee number"),
        validators=[DataRequired(message=_l("Write your email, phone or employee number.")),
                    Length(max=254)],
    )  # fmt: skip
    password = PasswordField(
        _l("Password"), validators=[DataRequired(message=_l("Write your password."))]
    )
    remember = BooleanField(_l("Keep me signed in on this device"))
    submit = SubmitField(_l("Sign in"))


class PasswordForm(Form):
    current = PasswordField(
        _l("Current password"),
        validators=[DataRequired(message=_l("Write your current password."))],
    )
    new = PasswordField(
        _l("New password"),
        validators=[DataRequired(message=_l("Choose a new password.")), new_password],
    )
    confirm = PasswordField(
        _l("New password again"),
        validators=[
            DataRequired(message=_l("Type the new password again.")),
            EqualTo("new", message=_l("The two new passwords differ.")),
        ],
    )
    submit = SubmitField(_l("Change password"))


class LogoutForm(Form):
    submit = SubmitField(_l("Sign out"))


class EndSessionsForm(Form):
    submit = SubmitField(_l("Sign out everywhere else"))


class EndSessionForm(Form):
    submit = SubmitField(_l("Sign out"))


class SetPasswordForm(Form):
    """Choosing a password from an invitation link: no current password to give."""

    new = PasswordField(
        _l("New password"),
        validators=[DataRequired(message=_l("Choose a password.")), new_password],
    )
    confirm = PasswordField(
        _l("New password again"),
        validators=[
            DataRequired(message=_l("Type the password again.")),
            EqualTo("new", message=_l("The two passwords differ.")),
        ],
    )
    submit = SubmitField(_l("Set password and sign in"))


class ForgotPasswordForm(Form):
    email = StringField(
        _l("Email"),
        validators=[
            DataRequired(message=_l("Write the email you sign in with.")),
            Length(max=254),
        ],
    )
    submit = SubmitField(_l("Send me a link"))


class JoinLookupForm(Form):
    code = StringField(
        _l("Code"),
        validators=[DataRequired(message=_l("Type the code from the poster.")), Length(max=32)],
        render_kw={"autocapitalize": "characters", "autocomplete": "off", "spellcheck": "false"},
    )
    submit = SubmitField(_l("Continue"))


class JoinForm(Form):
    name = StringField(
        _l("Your name"),
        validators=[DataRequired(message=_l("Write your name.")), Length(max=120)],
        render_kw={"autocomplete": "name"},
    )
    employee_number = StringField(
        _l("Employee number"), validators=[Length(max=32)], render_kw={"autocomplete": "off"}
    )
    phone = TelField(
        _l("Mobile phone (optional)"),
        validators=[Length(max=32)],
        render_kw={"autocomplete": "tel"},
    )
    how = RadioField(
        _l("How will you sign in next time?"),
        choices=[
            SelectChoice("pin", _l("With a 6-digit PIN on the branch tablet")),
            SelectChoice("password", _l("With a password on my own phone")),
        ],
        default="pin",
        validators=[DataRequired(message=_l("Choose a PIN or a password."))],
    )
    pin = PasswordField(
        _l("PIN (6 digits)"),
        render_kw={"inputmode": "numeric", "autocomplete": "new-password", "maxlength": 6},
    )
    password = PasswordField(
        _l("Password (12 characters or more)"), render_kw={"autocomplete": "new-password"}
    )
    submit = SubmitField(_l("Join"))


class PinForm(Form):
    """Signing in on a team's tablet. Nothing typed here may linger for the next colleague:
    no autofill, no suggestions."""

    employee_number = StringField(
        _l("Employee number"),
        validators=[
            DataRequired(message=_l("Write your employee number.")),
            Length(max=32, message=_l("An employee number has at most 32 characters.")),
        ],
        render_kw={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"},
    )
    pin = PasswordField(
        _l("PIN"),
        validators=[
            DataRequired(message=_l("Write your PIN.")),
            Regexp(r"^[0-9]{6}$", message=_l("A PIN is 6 digits.")),
        ],
        render_kw={"autocomplete": "off", "inputmode": "numeric", "maxlength": 6},
    )
    submit = SubmitField(_l("Sign in"))


class EnrolForm(Form):
    submit = SubmitField(_l("Use this browser as the team tablet"))


class CardForm(Form):
    """Choosing a way to sign in from a personal card: a password, a PIN, or both."""

    password = PasswordField(_l("Password"))
    password_again = PasswordField(_l("Password again"))
    pin = PasswordField(_l("PIN"), render_kw={"inputmode": "numeric", "maxlength": 6})
    pin_again = PasswordField(_l("PIN again"), render_kw={"inputmode": "numeric", "maxlength": 6})
    submit = SubmitField(_l("Save and sign in"))

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        password, pin = self.password.data or "", self.pin.data or ""
        if not password and not pin:
            self.password.errors.append(_("Choose a password, a PIN, or both."))
            return False
        for field, again, problem_of, differ in (
            (self.password, self.password_again, password_problem, _("The two passwords differ.")),
            (self.pin, self.pin_again, pin_problem, _("The two PINs differ.")),
        ):
            if not field.data:
                continue
            problem = problem_of(field.data)
            if problem:
                field.errors.append(problem)
                ok = False
            elif field.data != again.data:
                again.errors.append(differ)
                ok = False
        return ok


class LanguageForm(Form):
    """The language a person reads pages, mail and lessons in; each named in its own."""

    language = SelectField(
        _l("Language"),
        id="language-choice",  # "language" is the id of the Account page's section
        choices=[SelectChoice(code, name) for code, name in LANGUAGES.items()],
        validators=[DataRequired(message=_l("Choose a language."))],
    )
    submit = SubmitField(_l("Save language"))
