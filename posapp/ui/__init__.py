"""The Qt counter screen. Only this package imports PySide6."""
