"""python -m shmtop"""

from shmtop.cli import script

script()
