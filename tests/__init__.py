"""Tests, and the fake platforms and demo they share."""
