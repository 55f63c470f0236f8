"""User-facing errors of the synthetic package.

Every problem a user can cause (unknown parameter, bad value, impossible combination) raises
:class:`SyntheticError` with a one-line message that names the offending parameter. It is a
``ValueError`` so callers outside identlam can catch it without importing this package.
"""


class SyntheticError(ValueError):
    """A bad parameter or an impossible request, reported as one line naming the parameter."""
