"""identlam: latent action models and the tools to tell whether they recovered the true actions.

Importing the package is cheap (no torch); subpackages import what they need.
"""

from identlam.errors import IdentlamError

__version__ = "0.1.0"
__all__ = ["IdentlamError", "__version__"]
