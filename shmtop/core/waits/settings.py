"""The wait scan's limits, apart so a command's parser can name them without the scanner."""

DEFAULT_STUCK_AFTER = 5.0  # seconds an unreleasable wait's object must stay unchanged
MAX_SECONDS = 3600.0  # the longest --observe and --stuck-after: an hour
