"""`python -m ringrift.loop ...` is `ringrift loop ...`."""

import sys

from ringrift.cli.main import main

sys.exit(main(["loop", *sys.argv[1:]]))
