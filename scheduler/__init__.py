"""Time-driven work: the deadline countdown, unclosed-activity and counts reminders, the weekly
digest.

`plan` decides what is due at an instant (pure), `send` claims and delivers it, `jobs` is the
APScheduler wiring. It stands on storage and on handlers' layout modules
(`handlers.cycle.messages`, `handlers.slack.messages`), never on a listener.
"""
