"""python -m shmtop"""

from shmtop.cli import main

raise SystemExit(main())
