"""`python -m derive`."""

from derive.cli import console_main

console_main()
