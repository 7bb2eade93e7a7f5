"""The counter's own SQLite file: typed models, engine, migrations, backups."""
