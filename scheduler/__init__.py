"""Time-driven work: deadline and unclosed-activity reminders.

Reminders arrive with the annual-cycle release; this package holds them then. It may use
storage and handlers.blocks only.
"""
