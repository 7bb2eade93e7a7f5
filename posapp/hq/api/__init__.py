"""HQ's HTTP API: dependencies (``deps``), the error table (``errors``), the ASGI wrappers
(``middleware``) and one router per resource (``routes``)."""
