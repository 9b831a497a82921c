"""Fairness checks: does the model treat groups of people alike?"""
