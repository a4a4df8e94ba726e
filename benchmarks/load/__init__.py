"""Load benchmark and the simulated pupils it shares with the fault test (tests/faults)."""
