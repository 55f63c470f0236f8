"""`python -m identlam` runs the `identlam` command."""

import sys

from identlam.cli import main

sys.exit(main())
