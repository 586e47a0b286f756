"""What every command shares: the user-error type and the decorator that maps the library's
errors to the documented exit codes (2: invalid input; 1: an internal error or a search too
large, said in one line)."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click

from eligibility.errors import (
    CaseError,
    EligibilityError,
    RuleFileError,
    SearchTooLarge,
    UnknownPolicyError,
)

F = TypeVar("F", bound=Callable[..., Any])


class UserError(click.ClickException):
    """A user error: printed as one clean line (or one line per problem), exit 2."""

    exit_code = 2

    def show(self, file: Any = None) -> None:
        click.echo(f"error: {self.format_message()}", err=True)


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
            click.echo(f"error: {exc}", err=True)
            sys.exit(1)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except EligibilityError as exc:
            click.echo(f"internal error: {exc}", err=True)
            sys.exit(1)
        except Exception as exc:  # the contract: exit 1, one line, no traceback
            click.echo(f"internal error: {type(exc).__name__}: {exc}", err=True)
            sys.exit(1)

    return wrapper  # type: ignore[return-value]
