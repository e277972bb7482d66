"""Project commands (COMMANDS_MODULE): `crawl` with argument checks and meaningful exit codes."""
