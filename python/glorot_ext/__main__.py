import sys

from glorot_ext.cli import main

sys.exit(main())
