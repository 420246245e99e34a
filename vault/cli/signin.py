"""``offboard staff set-password`` and the password half of ``offboard staff add --password-stdin``.

A password is read from standard input, never from an argument: arguments end up in shell history and in
every process listing on the machine.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from sqlmodel import Session

from vault.cli.common import JsonOpt, emit, operator, services
from vault.cli.orgs import staff_app
from vault.errors import InvalidInput
from vault.models import StaffMember
from vault.orgs import passwords, signin, staff

PasswordStdinOpt = Annotated[
    bool, typer.Option("--password-stdin", help="Read the sign-in password from standard input (one line).")
]


def read_password() -> str:
    """The first line of standard input without its line ending (spaces are part of a passphrase)."""
    line = sys.stdin.readline()
    password = line.removesuffix("\n").removesuffix("\r")
    if not password:
        raise InvalidInput("no password on standard input (pipe it in: printf '%s\\n' \"$PW\" | offboard ...)")
    return password


def add_with_password(email: str, name: str, role: str, password: str) -> StaffMember:
    """``staff add`` with a password: the policy is checked first, then both are one transaction, so a
    refused password leaves no staff member behind."""
    passwords.check_policy(password, email=email)
    with services() as svc:

        def work(session: Session) -> StaffMember:
            principal = operator(session)
            member = staff.add_staff(session, principal, email=email, name=name, role=role, clock=svc.clock)
            signin.set_password(session, principal, email=member.email, password=password, clock=svc.clock)
            return member

        return svc.transact(work)


@staff_app.command("set-password")
def staff_set_password(
    email: Annotated[str, typer.Argument(help="The staff member's email.")],
    password_stdin: PasswordStdinOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Set the password a staff member signs in to the console with (at least 12 characters, not a
    common one). Their open console sessions end."""
    if not password_stdin:
        raise InvalidInput("give the password on standard input with --password-stdin (never as an argument)")
    password = read_password()
    with services() as svc:
        member = svc.transact(
            lambda session: signin.set_password(
                session, operator(session), email=email, password=password, clock=svc.clock
            )
        )
    emit(as_json, {"id": member.id, "email": member.email, "password_set": True}, f"password set for {member.email}")
