"""Counter actions. Each is one function taking a session and doing one transaction's work.

The caller opens the session (``Database.read()`` / ``Database.write()``) for one user
action and passes it in; nothing here commits or opens connections itself.
"""
