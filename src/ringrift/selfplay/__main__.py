"""`python -m ringrift.selfplay ...` is `ringrift selfplay ...` (the seed's `python -m app.training.X`)."""

import sys

from ringrift.cli.main import main

sys.exit(main(["selfplay", *sys.argv[1:]]))
