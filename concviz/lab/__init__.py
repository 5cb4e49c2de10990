"""The lab: a standard-library-only process that runs workloads under strategies.

It streams an event for every task to its parent (``protocol``); nothing here may
import anything outside the standard library at module level.
"""
