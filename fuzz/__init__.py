"""Fuzzing: the contract checks shared by tests/fuzz (hypothesis) and atheris_targets.py (atheris). See docs/fuzzing.md."""
