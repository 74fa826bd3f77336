"""`python -m ringrift.train ...` is `ringrift train ...` (the seed's `python -m app.training.X`)."""

import sys

from ringrift.cli.main import main

sys.exit(main(["train", *sys.argv[1:]]))
