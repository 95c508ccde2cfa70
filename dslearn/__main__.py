"""``python -m dslearn`` (and ``torchrun -m dslearn train ...``) run the command line."""

import sys

from dslearn.cli import main

sys.exit(main())
