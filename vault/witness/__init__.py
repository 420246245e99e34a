"""A C2SP tlog-witness anyone can run: it cosigns a log's checkpoint only if it is consistent with the last
one it cosigned for that log (issue 16, requirement 3; ``docs/witness.md``).

It holds no product data and needs none of Offboard's database: its key and its own SQLite state file
live in one folder (``home.py``); the state (``statefile.py``), the ``add-checkpoint`` request
(``submission.py``) and the checks and cosigning (``cosigner.py``) are the rest. The HTTP adapter is
``api/witness_app.py``; the commands are ``offboard witness init|serve``.
"""
