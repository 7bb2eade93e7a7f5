"""The HQ console: the brand's people run HQ from a browser (``/console``).

Services only: accounts, sessions and roles (``users``), the audit log (``audit``), the
reads the pages need that the API had no service for (``directory``, ``overview``) and the
page machinery (``web``). The routes are ``posapp/hq/api/routes/console_*.py``.
"""
