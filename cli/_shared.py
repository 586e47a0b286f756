"""What every command shares: the user-error type and the decorator that maps the library's
errors to the documented exit codes (2: invalid input; 1: an internal error or a search too
large, said in one line)."""

from __future__ import annotations

import contextlib
import functools
import os
import re
import sys
from collections.abc import Callable
from typing import Any, NoReturn, TypeVar

import click

from eligibility.errors import (
    CaseError,
    EligibilityError,
    RuleFileError,
    SearchTooLarge,
    UnknownPolicyError,
)

F = TypeVar("F", bound=Callable[..., Any])

# Characters a terminal may act on rather than show: C0 controls but tab and newline, DEL, C1
# controls, and the bidirectional overrides and isolates (which reorder a line as displayed).
_UNPRINTABLE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def printable(text: str) -> str:
    """Text from input made safe for a terminal: each control character becomes a visible
    escape (ESC becomes ``\\x1b``), so a case file cannot retitle or clear the terminal, move the
    cursor, or forge a line of output."""
    return _UNPRINTABLE.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


class UserError(click.ClickException):
    """A user error: printed as one clean line (or one line per problem), exit 2."""

    exit_code = 2

    def show(self, file: Any = None) -> None:
        click.echo(printable(f"error: {self.format_message()}"), err=True)


def quiet_closed_pipe() -> NoReturn:
    """Standard output's reader went away (``| head``): it has what it wanted, so write nothing
    more (not even at exit) and end with 0, as when the output was read to the end."""
    with contextlib.suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    sys.exit(0)


def user_errors(func: F) -> F:
    """Turn the library's errors into clean messages with the documented exit codes."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except (CaseError, RuleFileError) as exc:
            raise UserError(str(exc).replace("\n", "\nerror: ")) from None
        except UnknownPolicyError as exc:
            raise UserError(f"--policy: {exc}") from None
        except SearchTooLarge as exc:  # a limit of the search, not a fault: exit 1, said plainly
            click.echo(printable(f"error: {exc}"), err=True)
            sys.exit(1)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except BrokenPipeError:
            quiet_closed_pipe()
        except EligibilityError as exc:
            click.echo(printable(f"internal error: {exc}"), err=True)
            sys.exit(1)
        except Exception as exc:  # the contract: exit 1, one line, no traceback
            click.echo(printable(f"internal error: {type(exc).__name__}: {exc}"), err=True)
            sys.exit(1)

    return wrapper  # type: ignore[return-value]
