"""User-facing errors.

Every error a user can cause (bad file, bad config value, wrong shape, NaN) is raised as an
``IdentlamError`` whose message is one line naming the offending field. The CLI prints that line
and exits with status 2, without a traceback.
"""


class IdentlamError(ValueError):
    """A problem with the user's input, reported as one line."""


class DatasetError(IdentlamError):
    """A dataset file is missing, malformed, or used in a way its contents do not allow."""


class ConfigError(IdentlamError):
    """A configuration key or value is unknown or invalid."""


class TrainingDiverged(IdentlamError):
    """A loss became NaN or infinite; the last good checkpoint is kept."""
