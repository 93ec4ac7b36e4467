"""Build or update the ValueRelay index: `python ingest.py [SOURCE_DIR ...] [--data-dir DIR] [--strict]`."""

import sys

from bot.cli import ingest_main

if __name__ == "__main__":
    sys.exit(ingest_main(sys.argv[1:]))
