"""Forms of the workspace page. Flask-WTF adds the CSRF token."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import EmailField, SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, Email, InputRequired, Length

from accounts.models import WorkspaceRole

ROLE_CHOICES = [SelectChoice(WorkspaceRole.MEMBER.value, "Member: sees the workspace's apps"),
                SelectChoice(WorkspaceRole.ADMIN.value,
                             "Admin: also installs and uninstalls apps and manages people")]
ROLE_MESSAGE = "Choose Admin or Member."


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class RenameWorkspaceForm(FlaskForm):
    name = StringField("Workspace name", filters=[_strip], validators=[
        DataRequired(message="Give the workspace a name."),
        Length(max=120, message="Keep the name to 120 characters.")])


class InviteForm(FlaskForm):
    email = EmailField("Email address", filters=[_strip], validators=[
        InputRequired(message="Enter the email address of the person to invite."),
        Email(check_deliverability=False,
              message="Enter an email address in the correct format, like name@example.com."),
        Length(max=254, message="The email address must be at most 254 characters.")])
    role = SelectField("Role", choices=ROLE_CHOICES, default=WorkspaceRole.MEMBER.value,
                       validate_choice=False,
                       validators=[InputRequired(message=ROLE_MESSAGE)])


class MemberRoleForm(FlaskForm):
    """One member's role; the view gives each a prefix so field ids stay unique."""

    role = SelectField("Role", choices=[SelectChoice(role.value, role.value.capitalize())
                                        for role in WorkspaceRole],
                       validate_choice=False, validators=[InputRequired(message=ROLE_MESSAGE)])


class SwitchWorkspaceForm(FlaskForm):
    workspace_id = SelectField("Work in", coerce=int, choices=[], validate_choice=False)
