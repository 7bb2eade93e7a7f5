"""How constraints and indexes are named in both posapp databases (the counter's and HQ's).

Migrations refer to these names, so the rule is written once; a change here is a schema change.
"""

from __future__ import annotations

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
