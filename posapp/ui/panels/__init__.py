"""The counter window's panels, in the shape of Spyder's plugins.

Each panel owns its widgets, its work on the database thread and its ``sig_*`` signals;
the window (:mod:`posapp.ui.counter_window`) lays them out and connects their signals.
They share one :class:`~posapp.ui.panels.till.Till`: the services, the database thread,
the customer display, who is signed in and who is on screen.
"""
