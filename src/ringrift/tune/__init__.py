"""Tuning the training: hyperparameter search (Optuna, `study`) and population-based training
(`pbt`)."""
