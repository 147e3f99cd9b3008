import sys

from pvae_lib.cli import main

sys.exit(main())
