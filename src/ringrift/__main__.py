import sys

from ringrift.cli.main import main

sys.exit(main())
