from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    PasswordField,
    RadioField,
    SelectChoice,
    StringField,
    SubmitField,
    TelField,
)
from wtforms.validators import DataRequired, EqualTo, Length, Regexp, ValidationError

from trainer.auth.passwords import password_problem
from trainer.auth.pins import pin_problem


def new_password(_form, field) -> None:
    """The rules for a password someone chooses (`passwords.password_problem`)."""
    problem = password_problem(field.data)
    if problem:
        raise ValidationError(problem)


class LoginForm(FlaskForm):
    # Named "email" as it always was; an employee number or a phone number will do as well.
    email = StringField(
        "Email, phone or employee number",
        validators=[DataRequired(message="Write your email, phone or employee number."),
                    Length(max=254)],
    )  # fmt: skip
    password = PasswordField("Password", validators=[DataRequired()])
    remember = BooleanField("Keep me signed in on this device")
    submit = SubmitField("Sign in")


class PasswordForm(FlaskForm):
    current = PasswordField("Current password", validators=[DataRequired()])
    new = PasswordField("New password", validators=[DataRequired(), new_password])
    confirm = PasswordField(
        "New password again",
        validators=[DataRequired(), EqualTo("new", message="The two new passwords differ.")],
    )
    submit = SubmitField("Change password")


class LogoutForm(FlaskForm):
    submit = SubmitField("Sign out")


class EndSessionsForm(FlaskForm):
    submit = SubmitField("Sign out everywhere else")


class EndSessionForm(FlaskForm):
    submit = SubmitField("Sign out")


class SetPasswordForm(FlaskForm):
    """Choosing a password from an invitation link: no current password to give."""

    new = PasswordField(
        "New password",
        validators=[DataRequired(message="Choose a password."), new_password],
    )
    confirm = PasswordField(
        "New password again",
        validators=[
            DataRequired(message="Type the password again."),
            EqualTo("new", message="The two passwords differ."),
        ],
    )
    submit = SubmitField("Set password and sign in")


class ForgotPasswordForm(FlaskForm):
    email = StringField(
        "Email",
        validators=[DataRequired(message="Write the email you sign in with."), Length(max=254)],
    )
    submit = SubmitField("Send me a link")


class JoinLookupForm(FlaskForm):
    code = StringField(
        "Code",
        validators=[DataRequired(message="Type the code from the poster."), Length(max=32)],
        render_kw={"autocapitalize": "characters", "autocomplete": "off", "spellcheck": "false"},
    )
    submit = SubmitField("Continue")


class JoinForm(FlaskForm):
    name = StringField(
        "Your name",
        validators=[DataRequired(message="Write your name."), Length(max=120)],
        render_kw={"autocomplete": "name"},
    )
    employee_number = StringField(
        "Employee number", validators=[Length(max=32)], render_kw={"autocomplete": "off"}
    )
    phone = TelField(
        "Mobile phone (optional)", validators=[Length(max=32)], render_kw={"autocomplete": "tel"}
    )
    how = RadioField(
        "How will you sign in next time?",
        choices=[
            SelectChoice("pin", "With a 6-digit PIN on the branch tablet"),
            SelectChoice("password", "With a password on my own phone"),
        ],
        default="pin",
        validators=[DataRequired(message="Choose a PIN or a password.")],
    )
    pin = PasswordField(
        "PIN (6 digits)",
        render_kw={"inputmode": "numeric", "autocomplete": "new-password", "maxlength": 6},
    )
    password = PasswordField(
        "Password (12 characters or more)", render_kw={"autocomplete": "new-password"}
    )
    submit = SubmitField("Join")


class PinForm(FlaskForm):
    """Signing in on a team's tablet. Nothing typed here may linger for the next colleague:
    no autofill, no suggestions."""

    employee_number = StringField(
        "Employee number",
        validators=[
            DataRequired(message="Write your employee number."),
            Length(max=32, message="An employee number has at most 32 characters."),
        ],
        render_kw={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"},
    )
    pin = PasswordField(
        "PIN",
        validators=[
            DataRequired(message="Write your PIN."),
            Regexp(r"^[0-9]{6}$", message="A PIN is 6 digits."),
        ],
        render_kw={"autocomplete": "off", "inputmode": "numeric", "maxlength": 6},
    )
    submit = SubmitField("Sign in")


class EnrolForm(FlaskForm):
    submit = SubmitField("Use this browser as the team tablet")


class CardForm(FlaskForm):
    """Choosing a way to sign in from a personal card: a password, a PIN, or both."""

    password = PasswordField("Password")
    password_again = PasswordField("Password again")
    pin = PasswordField("PIN", render_kw={"inputmode": "numeric", "maxlength": 6})
    pin_again = PasswordField("PIN again", render_kw={"inputmode": "numeric", "maxlength": 6})
    submit = SubmitField("Save and sign in")

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        password, pin = self.password.data or "", self.pin.data or ""
        if not password and not pin:
            self.password.errors.append("Choose a password, a PIN, or both.")
            return False
        for field, again, problem_of, differ in (
            (self.password, self.password_again, password_problem, "The two passwords differ."),
            (self.pin, self.pin_again, pin_problem, "The two PINs differ."),
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
