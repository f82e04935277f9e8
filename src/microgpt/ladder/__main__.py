import sys

from microgpt.ladder import main

sys.exit(main())
