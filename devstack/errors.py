"""The one error the stack commands report to the user."""
from __future__ import annotations


class StackError(RuntimeError):
    """The stack could not be brought to the state asked for; the message says what to look at."""
