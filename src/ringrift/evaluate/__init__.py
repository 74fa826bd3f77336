"""Evaluation: statistics (Wilson, gauntlet verdicts, SPRT), Elo fitting and plots."""
