"""``python -m supplysim.cli``: the ``supplysim`` command."""
import sys

from . import main

sys.exit(main())
