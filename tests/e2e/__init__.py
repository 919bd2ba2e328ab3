"""End-to-end tests: the command line on generated corpora, as a user or a scheduler runs it."""
